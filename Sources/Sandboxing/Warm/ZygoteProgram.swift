/// The Python zygote: a clean interpreter that has imported the harness and the preamble, and
/// never runs submitted code. Each submission is a child forked from it that enters a fresh box
/// of its own and becomes that box's warm harness (``PythonHarness``): pid 1 of a new pid
/// namespace, which forks a fresh process per test.
///
/// Processes, per submission:
///
///     zygote (uid 0, a few capabilities, namespaces of its own, an empty network)
///       └─ box: forked into a new pid namespace, whose pid 1 it is; unshares mount, ipc and uts
///          namespaces; joins the slot's empty network namespace; mounts its own /work, /tmp,
///          /dev/shm and /proc; joins the slot's cgroup and a cgroup namespace rooted there; sets
///          the run's rlimits; drops every capability and becomes the slot's uid; loads the
///          profile's seccomp filter; then runs the harness (its tests are its children)
///
/// A box for one program (`/run_code`, `Sandbox.runWarmPythonProgram`) enters the same way but
/// runs no harness: it becomes the box's init, as assay-box-init is a cold box's, and forks the
/// program as pid 2, whose stdout and stderr are the host's pipes (see `run_program`).
///
/// One zygote serves every slot at once: it only forks (and reaps), and answers each submission
/// on the submission's own socket, so one process per submission is all the zygote adds.
///
/// The rule: no process that has run submitted code ever serves another submission. The zygote
/// never runs any; the box runs one submission's tests and dies with them.
///
/// Nothing in the box can reach the zygote: the zygote is outside the box's pid namespace (no
/// pid to signal, ptrace, prlimit or setpriority), another uid, holds no shared writable mapping
/// (a fork copies on write), and every descriptor but the submission's own is closed before the
/// box drops its privileges. When the host kills the box (its pid 1, through a pidfd), the kernel
/// kills the rest of its pid namespace.
///
/// Protocol (SOCK_SEQPACKET, one message each):
/// - zygote → host on fd 0, once: `{"ready": true}` after the imports.
/// - host → zygote on fd 0: the request (JSON) with descriptors: the job memfd, the record and
///   stderr pipes, the submission's reply socket, the slot's network namespace, the slot's cgroup
///   `procs` descriptors, then the per-test cgroup handles (a program box: its status pipe and its
///   stdin instead, and `"program": true` in the request).
/// - zygote → host on the reply socket: `{"box": pid}` with a pidfd of the box, or
///   `{"error": text}`; then, when the box has ended (the zygote reaps it), `{"status": wait status}`.
enum ZygoteProgram {
    static let fileName = "assay_zygote.py"

    /// The whole program: the harness's definitions, then the zygote.
    static var source: String { PythonHarness.source + zygote }

    /// Capabilities the zygote keeps (CAP_* numbers): what its box children need to enter their
    /// own namespaces and mounts (SYS_ADMIN), give /work and /tmp to the slot's uid (CHOWN),
    /// become that uid (SETUID, SETGID) and empty their bounding set (SETPCAP). Everything else
    /// is dropped before the zygote starts.
    static let capabilities: [Int] = [0 /* CHOWN */, 6 /* SETGID */, 7 /* SETUID */, 8 /* SETPCAP */, 21 /* SYS_ADMIN */]

    private static let zygote = #"""

import socket, base64, fcntl, resource
for _name in ("mount", "umount2", "unshare", "prctl", "setns"):
    getattr(libc, _name).restype = ctypes.c_int
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
libc.unshare.argtypes = [ctypes.c_int]
libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS = 0x00020000, 0x02000000, 0x04000000
CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x08000000, 0x20000000, 0x40000000
# A request's descriptors: 0 job, 1 records, 2 stderr, then these, then the cgroup handles.
REPLY, NETNS, PROCS = 3, 4, 5
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_DUMPABLE, PR_SET_SECCOMP, PR_CAPBSET_READ, PR_CAPBSET_DROP = 4, 22, 23, 24
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 38, 47
PR_CAP_AMBIENT_CLEAR_ALL, SECCOMP_MODE_FILTER = 4, 2
# Set once by zygote(): the capabilities left in its bounding set, each box's to drop.
BOUNDING = None

class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

def check(rc, what):
    if rc < 0:
        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (what, os.strerror(err)))

def mount(source, target, fstype, flags, data=None):
    enc = lambda s: s.encode() if s is not None else None
    check(libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), "mount " + target)

def bind_writable(source, target):
    # Writable places are noexec, nosuid and nodev, as in a cold box (spawn.c apply_mounts).
    mount(source, target, None, MS_BIND)
    mount(None, target, None, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC)

def enter_box(request, fds):
    """Runs as pid 1 of the submission's new pid namespace, still privileged; returns only
    once the process is the slot's uid with no capability and the profile's filter loaded."""
    uid = request["uid"]
    # The slot's own empty network namespace, as a cold run of the slot gets.
    check(libc.setns(fds[NETNS], CLONE_NEWNET), "setns network")
    # The mount namespace is a copy of the zygote's: nothing done here reaches it or the host.
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    # One capped tmpfs holds /work, /tmp and /dev/shm, as a cold box's root does.
    mount("tmpfs", "/box", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
          "size=%d,nr_inodes=%d,mode=0755" % (request["box_bytes"], request["box_inodes"]))
    for name in ("work", "tmp"):
        os.mkdir("/box/" + name, 0o755)
        os.chown("/box/" + name, uid, uid)
    bind_writable("/box/work", "/work")
    bind_writable("/box/tmp", "/tmp")
    bind_writable("/box/tmp", "/dev/shm")
    check(libc.umount2(b"/box", MNT_DETACH), "umount /box")
    # A procfs of the new pid namespace, in place of the zygote's.
    check(libc.umount2(b"/proc", MNT_DETACH), "umount /proc")
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    # Every byte and cycle from here on is charged to the slot's cgroup; the cgroup namespace
    # is rooted there, so /proc/self/cgroup names no host path.
    for fd in fds[PROCS:PROCS + request["procs"]]:
        os.write(fd, b"0")
    check(libc.unshare(CLONE_NEWCGROUP), "unshare cgroup")
    os.setsid()
    # 0 job, 1 records, 2 stderr, then the per-test cgroup handles at 3, 4, ... (the job names
    # them by those numbers); every other descriptor, the zygote's socket included, is closed.
    # Every source is lifted above the targets first, so no dup2 clobbers one still to be moved.
    keep = fds[:3] + fds[PROCS + request["procs"]:]
    lifted = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 64) for fd in keep]
    for target, fd in enumerate(lifted):
        os.dup2(fd, target, inheritable=False)
    os.closerange(len(lifted), 1 << 16)
    # After the descriptors: RLIMIT_NOFILE may be lower than the numbers they were lifted to.
    for res, soft, hard in request["rlimits"]:
        resource.setrlimit(res, (soft if soft < 1 << 63 else resource.RLIM_INFINITY,
                                 hard if hard < 1 << 63 else resource.RLIM_INFINITY))
    # Privileges, as spawn.c drop_privileges: the bounding set while CAP_SETPCAP is still held,
    # then the groups, the gid and the uid (which clears the remaining capabilities), then the
    # capability sets explicitly.
    for cap in BOUNDING:
        check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "drop capability %d" % cap)
    check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient capabilities")
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    header, data = CapHeader(0x20080522, 0), (CapData * 2)()
    check(libc.capset(ctypes.byref(header), data), "capset")
    # The uid change reset dumpability: no process of the box may read this one's memory.
    check(libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "dumpable")
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    program = base64.b64decode(request["seccomp"])
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0), "seccomp")
    os.chdir("/work")

def box_main(message, fds):
    set_name(b"assay-box")
    try:
        # Fresh mount, ipc and uts namespaces (the pid namespace is new already: the zygote
        # forked this process into it). Nothing done here reaches the zygote or the host.
        check(libc.unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
        request = json.loads(message)
        enter_box(request, fds)
    except BaseException:
        # Nothing submitted has run: a failure here is the sandbox's, reported as such.
        os.write(fds[1], (json.dumps({"error": "entering the box: " + traceback.format_exc()[-3000:]}) + "\n").encode())
        os._exit(70)
    if request.get("program"):
        run_program()
    run_harness()

# A program box's descriptors (see run_program), after the program's 0 (job), 1 and 2.
STATUS, STDIN = 3, 4

def status_record(kind, value):
    # assay-box-init's record (BoxInitRecord on the host): two native int32s.
    return kind.to_bytes(4, sys.byteorder) + (value & 0xFFFFFFFF).to_bytes(4, sys.byteorder)

def run_program():
    """One program run (`/run_code`): this process is the box's init, as assay-box-init is a cold
    box's. The program runs as pid 2 with ordinary signal semantics (pid 1 would survive its own
    SIGABRT, SIGPIPE or SIGXCPU); this process reaps orphans and, when the program ends, writes
    its wait status on the status pipe and exits, which makes the kernel end whatever the
    program left running. The program's stdout and stderr are the host's pipes, read with the
    cold path's caps; nothing here parses what it writes."""
    global PATH
    try:
        size = int(os.pread(JOB, 16, 0))
        job = json.loads(os.pread(JOB, size, 16))
        PATH = job["path"]
        source = os.pread(JOB, job["source"], 16 + size)
    except BaseException:
        # Nothing submitted has run: no record, so the host reports the sandbox's fault.
        os.write(2, ("the program box's init failed: " + traceback.format_exc()[-3000:]).encode())
        os._exit(70)
    # A failure to start the program is recorded as assay-box-init records it (3, errno): the
    # host's sandbox error, never the program's verdict. The program's own record can only
    # follow it, and the host reads the first.
    try:
        pid = os.fork()
    except OSError as e:
        os.write(STATUS, status_record(3, e.errno or 0))
        os._exit(126)
    if pid == 0:
        try:
            # The job (the program's own source) gives way to its stdin, and the status pipe is
            # this init's alone.
            os.dup2(STDIN, 0)
            os.close(STDIN)
            os.close(STATUS)
        except OSError as e:
            os.write(STATUS, status_record(3, e.errno or 0))
            os._exit(125)
        run_as_main(source, "", None, None)
    for fd in (0, 1, 2, STDIN):
        os.close(fd)
    while True:
        try:
            done, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(126)
        if done == pid:
            os.write(STATUS, status_record(1, status))
            os._exit(0)

def answer(reply, text, fds=()):
    # Never blocks the zygote: a reply socket holds one or two small messages, and a host that
    # has gone away only makes the send fail.
    try:
        socket.send_fds(reply, [text.encode()], list(fds), socket.MSG_DONTWAIT)
    except OSError:
        pass

def start_box(message, fds, own_pid_ns, boxes):
    """Forks the submission's box as pid 1 of a new pid namespace and reports it on the
    submission's reply socket; the zygote keeps the socket to report the box's end."""
    reply = socket.socket(fileno=fds[REPLY])
    others = fds[:REPLY] + fds[REPLY + 1:]
    try:
        check(libc.unshare(CLONE_NEWPID), "unshare pid")
        try:
            pid = os.fork()
        except BaseException:
            check(libc.setns(own_pid_ns, CLONE_NEWPID), "setns pid")
            raise
        if pid == 0:
            reply.detach()
            box_main(message, fds)
        # Back in the zygote's own pid namespace for its children, so the next unshare makes
        # a sibling of this box's namespace, not one nested in it. A zygote that cannot go
        # back is broken: it ends (with the box), and the host replaces it.
        if libc.setns(own_pid_ns, CLONE_NEWPID) < 0:
            os.kill(pid, signal.SIGKILL)
            os._exit(70)
        pidfd = os.pidfd_open(pid)
    except BaseException:
        answer(reply, json.dumps({"error": traceback.format_exc()[-3000:]}))
        reply.close()
        for fd in others:
            os.close(fd)
        return None
    for fd in others:
        os.close(fd)
    answer(reply, '{"box": %d}' % pid, [pidfd])
    boxes[pidfd] = (pid, reply)
    return pidfd

def zygote():
    set_name(b"assay-zygote")
    sock = socket.socket(fileno=0)
    preamble = open("/app/preamble.py").read()
    exec(compile(preamble, "preamble.py", "exec"), {"__name__": "__assay_preamble__"})
    # Compiled here once, not in every box: the graders' driver is 12 KB of Python.
    global PRELUDE
    prelude = open("/app/prelude.py").read()
    if prelude:
        PRELUDE = compile(prelude, open("/app/prelude-path").read(), "exec")
    own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    # The capabilities left in the zygote's bounding set (the host cut it to `capabilities`):
    # the only ones each box has to drop from its own.
    global BOUNDING
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    BOUNDING = [cap for cap in range(last + 1) if libc.prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1]
    # Each running box holds two of the zygote's descriptors (its pidfd and its submission's
    # reply socket) until it ends: as many as the hard limit allows, for many slots at once.
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    boxes = {}  # a running box's pidfd -> (its pid, its submission's reply socket)
    events = select.poll()
    events.register(0, select.POLLIN)
    gc.collect()
    gc.freeze()
    sock.send(b'{"ready": true}')
    while True:
        for fd, _ in events.poll():
            if fd != 0:
                # A box has ended: reap it and tell its submission how.
                events.unregister(fd)
                pid, reply = boxes.pop(fd)
                _, status = os.waitpid(pid, 0)
                answer(reply, '{"status": %d}' % status)
                reply.close()
                os.close(fd)
                continue
            message, fds, _, _ = socket.recv_fds(sock, 1 << 20, 64)
            if not message:
                os._exit(0)  # the host closed its end
            pidfd = start_box(message, fds, own_pid_ns, boxes)
            if pidfd is not None:
                events.register(pidfd, select.POLLIN)

zygote()
"""#
}
