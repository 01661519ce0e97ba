# [ioi/isolate syscall_flags; sandbox-anchors #45, ARCHITECTURE.md §2 seccomp] Namespace escapes and
# cross-box channels, each by raw syscall: a user namespace (unshare, clone flags), setns into
# init's namespaces, mount/chroot/pivot_root, keyrings, io_uring, bpf, perf_event_open,
# userfaultfd, flock on a shared read-only file, fcntl record locks, execveat, clone3 (must be
# ENOSYS so glibc falls back to clone), and threads still work afterwards.
import ctypes, errno, os, threading
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR = dict(unshare=272, setns=308, mount=165, chroot=161, pivot_root=155, keyctl=250, add_key=248,
          io_uring_setup=425, bpf=321, perf_event_open=298, userfaultfd=323, flock=73,
          execveat=322, clone3=435, clone=56, open_by_handle_at=304, kexec_load=246, init_module=175,
          settimeofday=164, syslog=103)
CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET = 0x10000000, 0x00020000, 0x40000000
def call(name, *args):
    r = libc.syscall(NR[name], *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    e = ctypes.get_errno()
    return "OK" if r >= 0 else errno.errorcode.get(e, str(e))
buf = ctypes.create_string_buffer(256)
print("unshare-user", call("unshare", CLONE_NEWUSER))
print("unshare-net", call("unshare", CLONE_NEWNET))
print("clone-newuser", call("clone", CLONE_NEWUSER | 17, 0, 0, 0, 0))  # 17 = SIGCHLD
fd = os.open("/proc/1/ns/net", os.O_RDONLY) if os.access("/proc/1/ns/net", os.R_OK) else os.open("/proc/self/ns/net", os.O_RDONLY)
print("setns", call("setns", fd, 0))
print("mount", call("mount", b"none", b"/tmp", b"tmpfs", 0, 0))
print("chroot", call("chroot", b"/tmp"))
print("pivot_root", call("pivot_root", b"/tmp", b"/tmp"))
print("keyctl", call("keyctl", 0, 0, 0, 0, 0))
print("add_key", call("add_key", b"user", b"k", b"v", 1, -2))
print("io_uring_setup", call("io_uring_setup", 8, buf))
print("bpf", call("bpf", 0, buf, 64))
print("perf_event_open", call("perf_event_open", buf, 0, -1, -1, 0))
print("userfaultfd", call("userfaultfd", 0))
print("open_by_handle_at", call("open_by_handle_at", -100, buf, 0))
print("kexec_load", call("kexec_load", 0, 0, 0, 0))
print("init_module", call("init_module", buf, 0, b""))
print("settimeofday", call("settimeofday", buf, 0))
print("syslog", call("syslog", 3, buf, 64))
shared = os.open("/usr/bin/python3", os.O_RDONLY)
print("flock", call("flock", shared, 2))  # LOCK_EX
try:
    import fcntl
    fcntl.lockf(os.open("/work/lock", os.O_RDWR | os.O_CREAT), fcntl.LOCK_EX)
    print("fcntl-lock OK")
except OSError as e:
    print("fcntl-lock", errno.errorcode[e.errno])
print("execveat", call("execveat", -100, b"/usr/bin/true", ctypes.c_void_p(0), ctypes.c_void_p(0), 0))
print("clone3", call("clone3", buf, 88))
t = threading.Thread(target=lambda: print("thread ran"))
t.start(); t.join()
