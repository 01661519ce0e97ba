# Spawn 10k threads [sandbox-anchors #7]; each blocks forever. The pids cgroup (threads count)
# refuses long before 10k: "can't start new thread" is a RuntimeError.
import threading
ev = threading.Event()
for i in range(10000):
    threading.Thread(target=ev.wait, daemon=True).start()
print("started all", flush=True)
