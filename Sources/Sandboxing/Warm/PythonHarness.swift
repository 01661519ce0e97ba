/// The warm Python harness: pid 1 of a per-submission box, forked from the clean zygote
/// (``ZygoteProgram``, which imported the harness and the preamble's modules once). It runs the
/// preamble, then forks a fresh child per test that runs the submission from that clean state.
/// It never runs submitted code itself, so every test starts from the same state.
///
/// Every test has the cold path's limits and isolation:
/// - Its own cgroup. The host hands the harness descriptors on the slot's per-test group
///   (`SlotCgroup.harnessHandles`): the harness writes the child's pid into it before letting the
///   child go on, so everything the test and its descendants use is charged there: memory
///   against the test's own limit (MLE only when the kernel's OOM killer acted there, as cold),
///   processes against its own pids limit, and CPU over all of its processes (reaped or not)
///   from the group's counter, which the harness polls every 20 ms.
/// - Nothing survives into the next test: between tests the harness kills every other process
///   (kill(-1) from pid 1 spares only itself) until none is left, and empties /work and /tmp (and
///   so /dev/shm) whatever their modes (it owns every file, so it restores each directory's
///   permissions first), and removes the box's SysV IPC objects.
/// - No test holds another test's data: the tests' inputs stay in the job memfd (fd 0), the
///   harness copies each test's stdin into that test's own memfd inside the kernel, and reads
///   each test's output into an anonymous mapping that it unmaps after sending the record. So a
///   child's memory never holds another test's stdin, output or driver.
/// - The harness cannot be reached: it is pid 1 (signals from the box are dropped unless it has
///   a handler, and it installs none), non-dumpable (no /proc/1/mem, /proc/1/fd), and the
///   seccomp filter refuses prlimit, setpriority, scheduler and io-priority changes to any
///   process but the caller. A test can never make the harness fail: whatever it writes, to any
///   descriptor, is capped and framed by length, so it is a verdict (OLE), never a broken record.
///
/// Records travel on fd 1: per test, one JSON header line followed by the raw bytes it names
/// (`lengths`), so binary output costs no escaping.
enum PythonHarness {
    static let fileName = "assay_harness.py"
    static let source = #"""
import ctypes, gc, json, mmap, os, select, signal, stat, sys, time
# Modules every test's driver imports (Rewards' driver: base64, io, traceback, with json, os,
# signal, time above): loaded once here, so no forked test pays for reading them from disk.
import base64, io, traceback

signal.signal(signal.SIGINT, signal.SIG_DFL)
libc = ctypes.CDLL(None, use_errno=True)
# Pointers as arguments: without the types, ctypes would pass a C int and cut an address short.
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0
OUT = 1
JOB = 0
PRELUDE = None  # the zygote's compiled prelude, if it has one (ZygoteProgram)

def set_name(name):
    # What ps, perf and /proc/PID/comm show for the process (PR_SET_NAME = 15).
    buffer = ctypes.create_string_buffer(name)
    libc.prctl(15, ctypes.addressof(buffer), 0, 0, 0)

def send(data):
    view = memoryview(data)
    while view:
        view = view[os.write(OUT, view):]

class Capture:
    """Output of one stream of one test, in an anonymous mapping: unmapped afterwards, so no
    later child finds it in the harness's heap."""
    def __init__(self, cap):
        self.cap, self.len = cap, 0
        # Private: a shared anonymous mapping would be memory a child could write.
        self.map = mmap.mmap(-1, max(cap, 1), flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    def take(self, fd):
        room = self.cap - self.len
        if room <= 0:
            n = len(os.read(fd, 65536))
            return n, n > 0
        n = os.readv(fd, [memoryview(self.map)[self.len:self.len + min(room, 1 << 20)]])
        self.len += n
        return n, False
    def bytes_view(self):
        return memoryview(self.map)[:self.len]
    def close(self):
        self.map.close()

class Group:
    """The slot's per-test cgroup, through descriptors the host opened for the harness."""
    def __init__(self, names):
        self.n = names
    def read(self, key):
        fd = self.n.get(key)
        return os.pread(fd, 4096, 0).decode() if fd is not None else ""
    def reset(self, key, value):
        fd = self.n.get(key)
        if fd is not None:
            try:
                os.pwrite(fd, value, 0)
            except OSError:
                pass  # cgroup2 before Linux 6.12 cannot reset memory.peak: the baseline still works
    def keyed(self, key, name):
        for line in self.read(key).splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == name:
                return int(parts[1])
        return 0
    def cpu_ns(self):
        if self.n["cpu_format"] == "ns":
            return int(self.read("cpu") or 0)
        return self.keyed("cpu", "usage_usec") * 1000
    def begin(self):
        v1 = self.n["v1"]
        self.reset("peak", b"0" if v1 else b"reset")
        if v1:
            self.reset("failcnt", b"0")
        self.base_cpu = self.cpu_ns()
        self.base_usage = int(self.read("usage").strip() or 0)
        self.base_oom = self.keyed("oom", "oom_kill")
        self.base_hits = 0 if v1 else self.keyed("oom", "max")
    def join(self, pid):
        for fd in self.n["procs"]:
            os.pwrite(fd, str(pid).encode(), 0)
    def end(self):
        cpu = self.cpu_ns() - self.base_cpu
        oom = self.keyed("oom", "oom_kill") - self.base_oom
        hits = int(self.read("failcnt").strip() or 0) if self.n["v1"] else self.keyed("oom", "max") - self.base_hits
        peak = int(self.read("peak").strip() or 0)
        if not (oom or hits):
            peak = max(peak - self.base_usage, 0)  # page cache an earlier test left charged here
        return cpu, peak, oom, hits

def kill_all():
    # From pid 1, kill(-1) reaches every other process of the box; orphans are re-parented to
    # pid 1, so reaping until there is no child left means none is left at all. A fork racing
    # the kill is caught by the next round.
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return

def wipe(top):
    # Every file in the box belongs to the box's uid, so whatever modes a test set, the harness
    # can restore a directory's permissions and empty it. Walked with chdir and names, not full
    # paths, so neither depth nor PATH_MAX can stop it.
    os.chmod(top, 0o755)
    os.chdir(top)
    trail = []
    while True:
        subdir = None
        for name in os.listdir("."):
            st = os.lstat(name)
            if stat.S_ISDIR(st.st_mode):
                subdir = name
            else:
                os.unlink(name)
        if subdir is not None:
            os.chmod(subdir, 0o700)
            os.chdir(subdir)
            trail.append(subdir)
        elif trail:
            os.chdir("..")
            os.rmdir(trail.pop())
        else:
            return

def clean_box():
    kill_all()
    for top in ("/work", "/tmp"):
        wipe(top)
    os.chdir("/work")
    for kind, rm in (("shm", lambda i: libc.shmctl(i, 0, None)), ("sem", lambda i: libc.semctl(i, 0, 0)),
                     ("msg", lambda i: libc.msgctl(i, 0, None))):
        with open("/proc/sysvipc/" + kind) as f:
            for line in f.readlines()[1:]:
                rm(int(line.split()[1]))  # IPC_RMID = 0

def run_child(code, preamble, prelude, driver, stdin_fd, go_r, out_w, err_w, res_w, cpu_limit, nproc):
    try:
        if os.read(go_r, 1) != b"g":
            os._exit(125)  # the harness died before moving this process into the test's cgroup
        source = os.pread(JOB, driver[1], driver[0]).decode() if driver else None
        os.dup2(stdin_fd, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        if res_w is not None:
            os.dup2(res_w, 3)
        os.closerange(4 if res_w is not None else 3, 1 << 16)
        import math, resource
        # The cold path's rlimits: the CPU backstop a second past the limit, and the per-uid
        # process count of the program plus one (the box init there, the harness here).
        soft = math.ceil(cpu_limit) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    run_as_main(code, preamble, prelude, source)

def run_as_main(code, preamble, prelude, source):
    """Runs `code` (compiled, or its source) as `python3 PATH` would, after `preamble` and the
    `prelude`, then the driver `source` if there is one; ends the process with the program's
    exit code. Descriptors 0-2 are the program's; 3, if open, takes the driver's result."""
    try:
        # The name a cold run's process has (python3), not the harness's.
        set_name(os.path.basename(sys.executable).encode()[:15])
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.stdin = open(0, "r", closefd=False)
        sys.stdout = open(1, "w", closefd=False)
        sys.stderr = open(2, "w", closefd=False)
        # As a cold run of the file at `path` sees itself (python3 /app/main.py).
        sys.argv = [PATH]
        g = {"__name__": "__main__", "__builtins__": __builtins__}
        def result(value):
            data = json.dumps(value).encode()
            with open(3, "wb", closefd=False) as f:
                f.write(data)
        exec(preamble, g)
        if prelude is not None:
            exec(prelude, g)
        if isinstance(code, bytes):
            code = compile(code, PATH, "exec")  # a syntax error is the program's, as cold
        exec(code, g)
        if source is not None:
            g["__assay_result__"] = result
            exec(source, g)
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

def read_collect(name, capture):
    # The test's process tree is dead; the file is whatever it left. Never follow a symlink,
    # never block on a FIFO, regular files only; nothing if it is larger than the cap.
    try:
        fd = os.open("/work/" + name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode) or os.fstat(fd).st_size > capture.cap:
            return False
        while capture.take(fd)[0] > 0:
            pass
        return True
    except OSError:
        return False
    finally:
        os.close(fd)

def run_test(index, test, code, preamble, prelude, limits, collect, group, last):
    cpu_limit, wall_limit = limits["cpu"], limits["wall"]
    driver = test.get("driver")
    caps = {"stdout": limits["stdout"], "stderr": limits["stderr"], "result": limits["result"] if driver else 0}
    offset, length = test["stdin"]
    stdin_fd = os.memfd_create("stdin")
    while length:
        n = os.copy_file_range(JOB, stdin_fd, length, offset + test["stdin"][1] - length)
        if n <= 0:
            raise OSError("the job ended inside test %d's input" % index)
        length -= n
    os.lseek(stdin_fd, 0, 0)
    pipes = {name: os.pipe() for name in caps if caps[name] or name != "result"}
    go_r, go_w = os.pipe()
    group.begin()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        run_child(code, preamble, prelude, driver, stdin_fd, go_r, pipes["stdout"][1], pipes["stderr"][1],
                  pipes["result"][1] if "result" in pipes else None, cpu_limit, limits["processes"] + 1)
    os.close(go_r)
    os.close(stdin_fd)
    for name in pipes:
        os.close(pipes[name][1])
    group.join(pid)
    os.write(go_w, b"g")
    os.close(go_w)
    # Made after the fork, so no child ever has the harness's buffers mapped.
    captures = {name: Capture(caps[name]) for name in pipes}
    readers = {pipes[name][0]: name for name in pipes}
    # The child's exit wakes the select at once through its pidfd; the timeout only paces the
    # CPU and wall checks.
    pidfd = os.pidfd_open(pid)
    killed, status = None, None
    while status is None or readers:
        watched = list(readers) + ([pidfd] if status is None else [])
        ready, _, _ = select.select(watched, [], [], 0.02 if status is None else 0.2)
        for fd in ready:
            if fd == pidfd:
                continue
            name = readers[fd]
            n, over = captures[name].take(fd)
            if n == 0:
                os.close(fd)
                del readers[fd]
            elif over and killed is None and status is None:
                killed = name
                os.kill(pid, signal.SIGKILL)
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
                # Descendants may hold the pipes open; end them so the pipes reach EOF.
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            elif killed is None:
                if group.cpu_ns() - group.base_cpu > cpu_limit * 1e9:
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
    kill_all()
    cpu, peak, oom, hits = group.end()
    collected = Capture(limits["result"]) if collect and killed is None else None
    if collected is not None and not read_collect(collect, collected):
        collected.close()
        collected = None
    if not last:
        # After the last test the whole box (its namespaces and its tmpfs) is thrown away.
        clean_box()
    streams = [captures[name] for name in ("stdout", "stderr", "result") if name in captures]
    if collected is not None:
        streams.append(collected)
    header = {
        "index": index, "killed": killed, "status": status, "wall_ns": int(wall * 1e9), "cpu_ns": cpu,
        "peak": peak, "oom": oom, "limit_hits": hits,
        "lengths": [captures[name].len if name in captures else -1 for name in ("stdout", "stderr", "result")]
                   + [collected.len if collected is not None else -1],
    }
    send((json.dumps(header) + "\n").encode())
    for capture in streams:
        send(capture.bytes_view())
        capture.close()
    return killed is None and status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0

def main():
    size = int(os.pread(JOB, 16, 0))
    job = json.loads(os.pread(JOB, size, 16))
    payload = 16 + size
    global PATH
    PATH = job["path"]
    group = Group(job["cgroup"])
    source = os.pread(JOB, job["source"][1], payload + job["source"][0])
    try:
        code = compile(source, job["path"], "exec")
    except BaseException:
        code = source  # each child compiles it again and reports the error as its own failure
    preamble = compile(job["preamble"], "preamble.py", "exec")
    prelude = None
    if job.get("prelude"):
        if PRELUDE is None:
            raise RuntimeError("the job needs the zygote's prelude and this zygote has none")
        prelude = PRELUDE
    # Import the preamble's modules once here (they stay in sys.modules for every child), in a
    # namespace that is thrown away: the harness itself never runs submitted code.
    exec(preamble, {"__name__": "__assay_preamble__"})
    tests = job["tests"]
    for test in tests:
        test["stdin"][0] += payload
        if test.get("driver"):
            test["driver"][0] += payload
    del job["tests"]
    os.chdir("/work")
    gc.collect()
    gc.freeze()  # children share these pages instead of copying them on the first collection
    send(b'{"ready": true}\n')
    for index, test in enumerate(tests):
        ok = run_test(index, test, code, preamble, prelude, job["limits"], job.get("collect"), group, index == len(tests) - 1)
        if not ok and job["stopAtFirstFailure"]:
            break
    send(b'{"done": true}\n')

def run_harness():
    try:
        main()
    except BaseException:
        # A fault of the harness (never of a test: a test cannot reach it): the host reports it
        # as a sandbox error, not as anyone's verdict.
        send((json.dumps({"error": traceback.format_exc()[-4000:]}) + "\n").encode())
        os._exit(70)
    os._exit(0)
"""#
}
