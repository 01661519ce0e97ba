# [piston tests/file_persistance.py; sandbox-anchors #31, #45] "write": leave state everywhere a
# later run might look (files in /tmp, /dev/shm, /work, /var/tmp; a SysV shared memory segment,
# semaphore and message queue with fixed keys; a POSIX message queue). "look": report what is
# found. The look run must find nothing.
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
IPC_CREAT, KEY = 0o1000, 0x5A5A1234
mode = sys.stdin.read().strip()
paths = ["/tmp/persist", "/dev/shm/persist", "/work/persist", "/var/tmp/persist", "/tmp/.hidden/persist"]
if mode == "write":
    os.makedirs("/tmp/.hidden", exist_ok=True)
    for p in paths:
        try:
            with open(p, "w") as f:
                f.write("state")
            print("wrote", p)
        except OSError as e:
            print("cannot", p, errno.errorcode[e.errno])
    shm = libc.shmget(KEY, 4096, IPC_CREAT | 0o666)
    if shm >= 0:
        libc.shmat.restype = ctypes.c_void_p
        addr = libc.shmat(shm, None, 0)
        ctypes.memmove(addr, b"state", 5)
    print("shmget", shm, errno.errorcode.get(ctypes.get_errno(), "0") if shm < 0 else "OK")
    print("semget", libc.semget(KEY, 1, IPC_CREAT | 0o666))
    print("msgget", libc.msgget(KEY, IPC_CREAT | 0o666))
    rt = ctypes.CDLL("librt.so.1", use_errno=True)
    mq = rt.mq_open(b"/persist", os.O_CREAT | os.O_RDWR, 0o666, None)
    print("mq_open", mq, errno.errorcode.get(ctypes.get_errno(), "0") if mq < 0 else "OK")
else:
    found = [p for p in paths if os.path.exists(p)]
    found += ["work:" + n for n in os.listdir("/work")] + ["tmp:" + n for n in os.listdir("/tmp")]
    found += ["shm:" + n for n in os.listdir("/dev/shm")]
    if libc.shmget(KEY, 0, 0) >= 0: found.append("sysv-shm")
    if libc.semget(KEY, 0, 0) >= 0: found.append("sysv-sem")
    if libc.msgget(KEY, 0) >= 0: found.append("sysv-msg")
    with open("/proc/sysvipc/shm") as f:
        found += ["proc-shm:" + l.split()[0] for l in f.readlines()[1:]]
    print("found", found)
