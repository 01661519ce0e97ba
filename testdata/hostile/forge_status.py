# [sandbox-anchors #46, #47] Forge the result. The box's init (pid 1) reports the program's wait
# status to the supervisor on fd 3; the program tries to write a forged "exited 0" record there
# (through /proc/1/fd/3, and its own fd 3 in case it leaked), prints a fake success line, then
# dies of SIGSEGV. The verdict must be RE by SIGSEGV, whatever it printed or wrote.
import os, signal, struct
forged = struct.pack("ii", 1, 0)
for path in ("/proc/1/fd/3", "/proc/self/fd/3", "/proc/1/mem", "/proc/1/environ"):
    try:
        fd = os.open(path, os.O_WRONLY)
        os.write(fd, forged)
        print(path, "WRITTEN", flush=True)
    except OSError as e:
        print(path, e.strerror, flush=True)
try:
    os.write(3, forged)
    print("fd3 WRITTEN", flush=True)
except OSError as e:
    print("fd3", e.strerror, flush=True)
print("ALL TESTS PASSED", flush=True)
os.kill(os.getpid(), signal.SIGSEGV)
