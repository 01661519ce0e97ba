# [cms timeout-sleep/pause/select] Print the answer, then block without using CPU.
import select, signal, sys, time
print("answer", flush=True)
mode = sys.stdin.read().strip()
if mode == "pause":
    signal.pause()
elif mode == "select":
    select.select([], [], [])
else:
    time.sleep(1e9)
