/// The warm Python harness: pid 1 of a per-submission box. It imports the preamble once, then
/// forks a fresh child per test that runs the submission from that clean state. It never runs
/// submitted code itself, so every test starts from the same state.
///
/// Why each piece:
/// - It runs as pid 1 of the box, so signals from the test children are dropped by the kernel
///   (init semantics): a test cannot kill or stop the harness. SIGINT's Python handler is
///   removed so that rule covers it too.
/// - It makes itself non-dumpable: children run as the same uid, and could otherwise open
///   /proc/1/fd/1 (the channel to the host) or /proc/1/mem and forge records.
/// - Between tests it kills every other process (kill(-1) from pid 1 spares only itself), reaps
///   them, and empties /work and /tmp (and so /dev/shm) and the box's SysV IPC objects: nothing
///   test 1 wrote is visible to test 2.
/// - Records travel on fd 1 as one JSON line per test. Test children never hold that fd
///   (their 1 and 2 are pipes read by the harness); the host compares outputs itself.
enum PythonHarness {
    static let fileName = "assay_harness.py"
    static let source = #"""
import ctypes, gc, json, os, select, shutil, signal, sys, time, traceback

signal.signal(signal.SIGINT, signal.SIG_DFL)
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0
CLK_TCK = os.sysconf("SC_CLK_TCK")
OUT = 1

def emit(record):
    data = (json.dumps(record) + "\n").encode()
    while data:
        data = data[os.write(OUT, data):]

def cpu_seconds(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0

def clean_box():
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    for top in ("/work", "/tmp"):
        for name in os.listdir(top):
            path = os.path.join(top, name)
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)
            except OSError:
                pass
    for kind, rm in (("shm", lambda i: libc.shmctl(i, 0, None)), ("sem", lambda i: libc.semctl(i, 0, 0)),
                     ("msg", lambda i: libc.msgctl(i, 0, None))):
        try:
            with open("/proc/sysvipc/" + kind) as f:
                for line in f.readlines()[1:]:
                    rm(int(line.split()[1]))  # IPC_RMID = 0
        except OSError:
            pass

def run_child(code, preamble, driver, stdin_fd, out_w, err_w, res_w, cpu_limit):
    try:
        os.dup2(stdin_fd, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.dup2(res_w, 3)
        os.closerange(4, 1 << 16)
        import resource
        soft = int(cpu_limit) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.stdin = open(0, "r", closefd=False)
        sys.stdout = open(1, "w", closefd=False)
        sys.stderr = open(2, "w", closefd=False)
        g = {"__name__": "__main__", "__builtins__": __builtins__}
        def result(value):
            data = json.dumps(value).encode()
            with open(3, "wb", closefd=False) as f:
                f.write(data)
        exec(preamble, g)
        exec(code, g)
        if driver is not None:
            g["__assay_result__"] = result
            exec(driver, g)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    os._exit(code & 0xFF)

def read_collect(name, cap):
    # The test's process tree is dead; the file is whatever it left. Never follow a symlink,
    # never block on a FIFO, regular files only.
    if not name:
        return None
    try:
        fd = os.open("/work/" + name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        import stat
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = os.read(fd, cap + 1)
        return None if len(data) > cap else data
    finally:
        os.close(fd)

def run_test(index, test, code, preamble, limits, collect):
    cpu_limit, wall_limit = limits["cpu"], limits["wall"]
    caps = {"out": limits["stdout"], "err": limits["stderr"], "res": limits["result"]}
    stdin_fd = os.memfd_create("stdin")
    os.write(stdin_fd, test["stdin"].encode("latin-1"))
    os.lseek(stdin_fd, 0, 0)
    pipes = {name: os.pipe() for name in ("out", "err", "res")}
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        run_child(code, preamble, test.get("driver"), stdin_fd,
                  pipes["out"][1], pipes["err"][1], pipes["res"][1], cpu_limit)
    os.close(stdin_fd)
    for name in pipes:
        os.close(pipes[name][1])
    readers = {pipes[name][0]: name for name in pipes}
    # The child's exit wakes the select at once through its pidfd; the timeout only paces the
    # CPU and wall checks.
    pidfd = os.pidfd_open(pid)
    data = {"out": bytearray(), "err": bytearray(), "res": bytearray()}
    killed, status, usage = None, None, None
    while status is None or readers:
        watched = list(readers) + ([pidfd] if status is None else [])
        ready, _, _ = select.select(watched, [], [], 0.02 if status is None else 0.2)
        for fd in ready:
            if fd == pidfd:
                continue
            chunk = os.read(fd, 65536)
            name = readers[fd]
            if not chunk:
                os.close(fd)
                del readers[fd]
                continue
            room = caps[name] - len(data[name])
            data[name] += chunk[:max(room, 0)]
            if len(chunk) > room and killed is None and status is None:
                killed = "ole"
                os.kill(pid, signal.SIGKILL)
        if status is None:
            done, st, ru = os.wait4(pid, os.WNOHANG)
            if done:
                status, usage = st, ru
                # Descendants may hold the pipes open; end them so the pipes reach EOF.
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            elif killed is None:
                if cpu_seconds(pid) > cpu_limit:
                    killed = "cpu"
                    os.kill(pid, signal.SIGKILL)
                elif time.monotonic() - start > wall_limit:
                    killed = "wall"
                    os.kill(pid, signal.SIGKILL)
        elif time.monotonic() - start > wall_limit + 2:
            break
    os.close(pidfd)
    wall = time.monotonic() - start
    for fd in readers:
        os.close(fd)
    collected = read_collect(collect, caps["res"]) if killed is None else None
    clean_box()
    cpu = usage.ru_utime + usage.ru_stime
    record = {
        "index": index, "killed": killed, "wall": wall, "cpu": cpu, "maxrss": usage.ru_maxrss * 1024,
        "exited": os.WIFEXITED(status), "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "stdout": data["out"].decode("latin-1"), "stderr": data["err"].decode("latin-1"),
        "result": data["res"].decode("latin-1") if data["res"] else None,
        "collected": collected.decode("latin-1") if collected is not None else None,
    }
    emit(record)
    return killed is None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0

def main():
    job = json.loads(sys.stdin.buffer.read())
    with open(job["source"], "rb") as f:
        source = f.read()
    try:
        code = compile(source, "main.py", "exec")
    except BaseException:
        code = source  # each child compiles it again and reports the error as its own failure
    preamble = compile(job["preamble"], "preamble.py", "exec")
    # Import the preamble's modules once here (they stay in sys.modules for every child), in a
    # namespace that is thrown away: the harness itself never runs submitted code.
    exec(preamble, {"__name__": "__assay_preamble__"})
    gc.collect()
    gc.freeze()  # children share these pages instead of copying them on the first collection
    emit({"ready": True})
    for index, test in enumerate(job["tests"]):
        ok = run_test(index, test, code, preamble, job["limits"], job.get("collect"))
        if not ok and job["stopAtFirstFailure"]:
            break
    emit({"done": True})

main()
"""#
}
