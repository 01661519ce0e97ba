# [go-judge sanity "No Symlink Escape", "FIFO CopyOut Failure"; judge0 CVE-2024-28185/28189;
# sandbox-anchors #33-#35] The host reads /work/result back after the run (out-of-band result).
# Make it anything but a regular file in /work: a symlink to a host path (absolute and relative),
# to /dev/zero or /dev/urandom, a FIFO with no writer, a directory, a file over the read limit.
# The mode comes on stdin, then the host path of a sentinel. The host must collect nothing, must
# not block and must not follow the link.
import os, sys
mode, target = (sys.stdin.read().split() + ["", ""])[:2]
p = "/work/result"
if mode == "abs-symlink":
    os.symlink(target, p)
elif mode == "rel-symlink":
    os.symlink("../../../../../../../../.." + target, p)
elif mode == "proc-symlink":
    os.symlink("/proc/1/root" + target, p)
elif mode == "dev-zero":
    os.symlink("/dev/zero", p)
elif mode == "dev-urandom":
    os.symlink("/dev/urandom", p)
elif mode == "fifo":
    os.mkfifo(p)
elif mode == "directory":
    os.mkdir(p)
    with open(p + "/inner", "w") as f:
        f.write("x")
elif mode == "too-big":
    with open(p, "wb") as f:
        f.write(b"x" * (2 << 20))
elif mode == "plain":
    with open(p, "w") as f:
        f.write("plain result")
print("planted", mode)
