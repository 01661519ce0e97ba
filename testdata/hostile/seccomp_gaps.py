# [issue 9 §2, Docker's default seccomp profile, isolate] Gaps of the seccomp deny-list, by raw
# syscall (x86_64 numbers): an fcntl lock or ioctl command with a high bit set (the kernel reads
# only the low 32 bits, the filter must too), lock queries, dnotify and leases, inotify, kcmp,
# pidfd_getfd, process_madvise, and changing another process's rlimits, priority, scheduling,
# CPU affinity or io priority (pid 1, the box init, has the same uid). The same calls on the
# process itself must still work, and a syscall newer than the reviewed list is ENOSYS.
# Prints "name RESULT" per attempt.
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR = dict(fcntl=72, ioctl=16, inotify_init=253, inotify_init1=294, kcmp=312, pidfd_open=434,
          pidfd_getfd=438, process_madvise=440, prlimit64=302, setpriority=141, sched_setparam=142,
          sched_setscheduler=144, sched_setaffinity=203, sched_setattr=314, ioprio_set=251,
          cachestat=451, fchmodat2=452, listmount=458)
def call(name, *args):
    r = libc.syscall(NR[name], *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    e = ctypes.get_errno()
    return "OK" if r >= 0 else errno.errorcode.get(e, str(e))
HIGH = 1 << 32
F_GETLK, F_SETLK, F_OFD_GETLK, F_NOTIFY, F_SETLEASE, F_RDLCK = 5, 6, 36, 1026, 1024, 0
flock = ctypes.create_string_buffer(32)  # struct flock, all zero: F_RDLCK of the whole file
shared = os.open("/usr/bin/python3", os.O_RDONLY)
print("fcntl-setlk-high", call("fcntl", shared, HIGH | F_SETLK, flock))
print("fcntl-setlk", call("fcntl", shared, F_SETLK, flock))
print("fcntl-getlk", call("fcntl", shared, F_GETLK, flock))
print("fcntl-ofd-getlk", call("fcntl", shared, F_OFD_GETLK, flock))
usr = os.open("/usr", os.O_RDONLY | os.O_DIRECTORY)
print("fcntl-notify", call("fcntl", usr, F_NOTIFY, 1))  # DN_ACCESS
with open("/work/own", "w") as f:
    f.write("x")
own = os.open("/work/own", os.O_RDONLY)
print("fcntl-setlease", call("fcntl", own, F_SETLEASE, F_RDLCK))
print("fcntl-getfl", call("fcntl", own, 3))  # F_GETFL: ordinary commands still work
c = ctypes.create_string_buffer(b"x")
print("ioctl-tiocsti-high", call("ioctl", 0, HIGH | 0x5412, c))
print("inotify_init", call("inotify_init"))
print("inotify_init1", call("inotify_init1", 0))
me = os.getpid()
print("kcmp", call("kcmp", me, me, 0, 0, 0))  # KCMP_FILE
pidfd = libc.syscall(NR["pidfd_open"], ctypes.c_long(me), ctypes.c_long(0))
print("pidfd_getfd", call("pidfd_getfd", pidfd, 0, 0))
iov = (ctypes.c_long * 2)(ctypes.addressof(flock), 4096)
print("process_madvise", call("process_madvise", pidfd, iov, 1, 20, 0))  # MADV_COLD
rl = ctypes.create_string_buffer(16)
print("prlimit-init", call("prlimit64", 1, 7, None, rl))  # RLIMIT_NOFILE, read only
print("prlimit-self", call("prlimit64", 0, 7, None, rl))
print("setpriority-init", call("setpriority", 0, 1, 19))  # PRIO_PROCESS
print("setpriority-group", call("setpriority", 1, 0, 19))  # PRIO_PGRP
print("setpriority-self", call("setpriority", 0, 0, 5))
param = ctypes.create_string_buffer(8)
print("sched_setscheduler-init", call("sched_setscheduler", 1, 3, param))  # SCHED_BATCH
print("sched_setparam-init", call("sched_setparam", 1, param))
attr = ctypes.create_string_buffer(48)
ctypes.memmove(attr, (ctypes.c_uint32 * 1)(48), 4)  # size = SCHED_ATTR_SIZE_VER0, SCHED_OTHER, nice 0
print("sched_setattr-init", call("sched_setattr", 1, attr, 0))
mask = ctypes.create_string_buffer(b"\x01" + b"\x00" * 127)
print("sched_setaffinity-init", call("sched_setaffinity", 1, 128, mask))
print("sched_setaffinity-init-high", call("sched_setaffinity", HIGH | 1, 128, mask))
print("sched_setaffinity-self", call("sched_setaffinity", 0, 128, mask))
BE4 = (2 << 13) | 4  # IOPRIO_CLASS_BE, level 4
print("ioprio_set-init", call("ioprio_set", 1, 1, BE4))  # IOPRIO_WHO_PROCESS
print("ioprio_set-group", call("ioprio_set", 2, 0, BE4))  # IOPRIO_WHO_PGRP
print("ioprio_set-self", call("ioprio_set", 1, 0, BE4))
# cachestat shows what others read of a shared file: ENOSYS. fchmodat2 (reviewed, allowed) works.
cstat = ctypes.create_string_buffer(64)
crange = ctypes.create_string_buffer(16)  # offset 0, length 0: the whole file
print("cachestat", call("cachestat", shared, crange, cstat, 0))
print("fchmodat2", call("fchmodat2", -100, b"/work/own", 0o644, 0))  # AT_FDCWD
# A syscall numbered past the reviewed list (Linux 6.8's listmount): ENOSYS, as on an older kernel.
print("listmount", call("listmount", 0, 0, 0, 0))
