# [sandbox-anchors #44; SandboxFusion test_isolation.py] Run many copies at once. Each leaves a
# token (stdin) in /tmp, /dev/shm and /work, holds a fixed abstract unix socket name and a fixed
# SysV key, waits so the others overlap, then reports every token it can see. Only its own may
# appear, and the fixed names must never collide.
import ctypes, os, socket, sys, time
token = sys.stdin.read().strip()
for d in ("/tmp", "/dev/shm", "/work"):
    with open("%s/token-%s" % (d, token), "w") as f:
        f.write(token)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.bind("\0assay-hostile-shared-name")
    s.listen(1)
    bound = "bound"
except OSError as e:
    bound = "COLLISION %s" % e
libc = ctypes.CDLL(None, use_errno=True)
shm = libc.shmget(0x600DF00D, 4096, 0o1000 | 0o2000 | 0o666)  # IPC_CREAT | IPC_EXCL
time.sleep(0.3)
seen = set()
for d in ("/tmp", "/dev/shm", "/work"):
    seen.update(n[len("token-"):] for n in os.listdir(d) if n.startswith("token-"))
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print(" ".join(sorted(seen)))
print(bound)
print("shm", "ok" if shm >= 0 else "COLLISION")
print("pids", pids)
