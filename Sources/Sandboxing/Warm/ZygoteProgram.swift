/// The Python zygote: a clean interpreter that has imported the harness and the preamble, and
/// never runs submitted code. Once ready it hands itself to its C engine (libassay-zygote.so,
/// Sources/ZygoteEngine), which serves the host from then on and returns to Python only in a
/// submission's process, with the box entered and every privilege dropped.
///
/// Processes, per submission:
///
///     zygote (uid 0, a few capabilities, namespaces of its own, an empty network)
///       └─ box: pid 1 of a new pid namespace; unshares mount, ipc and uts namespaces; joins the
///          slot's empty network namespace; mounts its own /work, /tmp, /dev/shm and /proc;
///          joins the slot's cgroup and a cgroup namespace rooted there; sets the run's rlimits;
///          drops every capability and becomes the slot's uid; loads the profile's seccomp
///          filter (Sources/ZygoteEngine/box.c)
///
/// A harness box is forked: it then runs the warm harness (``PythonHarness``), whose tests are
/// its children. A program box (`/run_code`, `Sandbox.runWarmPythonProgram`) is laid out as a
/// cold box: its pid 1 shares the zygote's memory while it enters the box (a vfork), forks the
/// program as pid 2 (the one copy of the zygote per run) and then execs assay-box-init, which
/// adopts the program. The program's stdout and stderr are the host's pipes (see `run_program`).
///
/// The rule: no process that has run submitted code ever serves another submission. The zygote
/// never runs any; a box runs one submission and dies with it.
///
/// Nothing in the box can reach the zygote: the zygote is outside the box's pid namespace (no
/// pid to signal, ptrace, prlimit or setpriority), another uid, holds no shared writable mapping
/// (a fork copies on write; a vforked pid 1 runs only the engine's C code, and execs or exits
/// before the zygote goes on), and every descriptor but the submission's own is closed before
/// the box drops its privileges. When the host kills the box (its pid 1, through a pidfd), the
/// kernel kills the rest of its pid namespace.
///
/// Protocol (SOCK_SEQPACKET, one message each):
/// - zygote → host on fd 0, once: `{"ready": true}` after the imports.
/// - host → zygote on fd 0: the request, an `assay_box_request` (binary, see
///   Sources/ZygoteEngine/include/assay_zygote.h and ``ZygoteBoxRequest``) with descriptors:
///   the job memfd, the record and stderr pipes, the submission's reply socket, the slot's
///   network namespace, the slot's cgroup `procs` descriptors, then the per-test cgroup handles
///   (a program box: its status pipe and its stdin instead).
/// - zygote → host on the reply socket: `{"box": pid}` with a pidfd of the box, or
///   `{"error": text}`; then, when the box has ended (the zygote reaps it), `{"status": wait status}`.
enum ZygoteProgram {
    static let fileName = "assay_zygote.py"
    /// The engine's file in the zygote's /app.
    static let engineFileName = "libassay-zygote.so"

    /// The whole program: the harness's definitions, then the zygote.
    static var source: String { PythonHarness.source + zygote }

    /// Capabilities the zygote keeps (CAP_* numbers): what its box children need to enter their
    /// own namespaces and mounts (SYS_ADMIN), give /work and /tmp to the slot's uid (CHOWN),
    /// become that uid (SETUID, SETGID) and empty their bounding set (SETPCAP). Everything else
    /// is dropped before the zygote starts.
    static let capabilities: [Int] = [0 /* CHOWN */, 6 /* SETGID */, 7 /* SETUID */, 8 /* SETPCAP */, 21 /* SYS_ADMIN */]

    private static let zygote = #"""

import resource
# What assay_zygote_serve returned in (Sources/ZygoteEngine/include/assay_zygote.h).
CLOSED, HARNESS, PROGRAM = 0, 1, 2
# A program's descriptors, after its 0 (job), 1 and 2: the init's status pipe (until the program
# starts), its stdin, and the start pipe, whose EOF says the init is closed to this process.
STATUS, STDIN, START = 3, 4, 5

def status_record(kind, value):
    # assay-box-init's record (BoxInitRecord on the host): two native int32s.
    return kind.to_bytes(4, sys.byteorder) + (value & 0xFFFFFFFF).to_bytes(4, sys.byteorder)

def run_program():
    """One program run (`/run_code`), as pid 2 of its box under assay-box-init, which records how
    it ends. The program's stdout and stderr are the host's pipes, read with the cold path's
    caps; nothing here parses what it writes."""
    global PATH
    try:
        size = int(os.pread(JOB, 16, 0))
        job = json.loads(os.pread(JOB, size, 16))
        PATH = job["path"]
        source = os.pread(JOB, job["source"], 16 + size)
        # The job (the program's own source) gives way to its stdin.
        os.dup2(STDIN, 0)
        os.close(STDIN)
        # Nothing submitted runs before the init has made itself non-dumpable (it then closes
        # the pipe's other end): until then /proc/1/fd, its status pipe, would be open to us.
        if os.read(START, 1) != b"":
            raise RuntimeError("the start pipe carried data")
        os.close(START)
    except BaseException as e:
        # Nothing submitted has run: recorded as assay-box-init records a program it could not
        # start (3, errno), the host's sandbox error, never the program's verdict. The init's own
        # record of this process's exit can only follow it, and the host reads the first.
        os.write(STATUS, status_record(3, getattr(e, "errno", None) or 0))
        os.write(2, ("the program box failed before the program: " + traceback.format_exc()[-3000:]).encode())
        os._exit(70)
    # The status pipe is the init's alone from here on.
    os.close(STATUS)
    run_as_main(source, "", None, None)

def zygote():
    set_name(b"assay-zygote")
    preamble = open("/app/preamble.py").read()
    exec(compile(preamble, "preamble.py", "exec"), {"__name__": "__assay_preamble__"})
    # Compiled here once, not in every box: the graders' driver is 12 KB of Python.
    global PRELUDE
    prelude = open("/app/prelude.py").read()
    if prelude:
        PRELUDE = compile(prelude, open("/app/prelude-path").read(), "exec")
    # PyDLL: the engine runs holding the GIL, as os.fork does, and calls Python's fork hooks.
    engine = ctypes.PyDLL("/app/\#(engineFileName)", use_errno=True)
    engine.assay_zygote_serve.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p]
    engine.assay_zygote_serve.restype = ctypes.c_int
    hooks = (ctypes.c_void_p * 3)(*(ctypes.cast(getattr(ctypes.pythonapi, name), ctypes.c_void_p).value
                                    for name in ("PyOS_BeforeFork", "PyOS_AfterFork_Parent", "PyOS_AfterFork_Child")))
    # Each running box holds two of the zygote's descriptors (its pidfd and its submission's
    # reply socket) until it ends: as many as the hard limit allows, for many slots at once.
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    gc.collect()
    gc.freeze()
    os.write(0, b'{"ready": true}')  # a SOCK_SEQPACKET socket: one write, one message
    kind = engine.assay_zygote_serve(0, b"/.assay-init", ctypes.addressof(hooks))
    if kind == HARNESS:
        run_harness()
    if kind == PROGRAM:
        run_program()
    os._exit(0 if kind == CLOSED else 70)  # the host closed its end, or the engine failed

zygote()
"""#
}
