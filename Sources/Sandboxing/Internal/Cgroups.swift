import Foundation
import Glibc

/// Where the run cgroups live, chosen by the controllers that are actually available, not by
/// what is mounted: these machines run a hybrid layout where cgroup2 is mounted with only
/// `hugetlb` while memory and pids live in v1 hierarchies.
struct CgroupLayout: Sendable {
    enum Version: Sendable { case v1, v2 }

    /// One controller's home: the directory under which assay makes its own subtree.
    struct Placement: Sendable, Hashable {
        var version: Version
        /// assay's subtree, beneath the cgroup assay itself runs in (never a hierarchy's root,
        /// so assay stays inside whatever limits its host gave it).
        var base: String
    }

    var memory: Placement?
    var pids: Placement?
    var cpu: Placement?

    /// The distinct directories a run needs a cgroup in.
    var placements: [Placement] {
        var seen: [Placement] = []
        for p in [memory, pids, cpu].compactMap({ $0 }) where !seen.contains(p) { seen.append(p) }
        return seen
    }

    var missing: [String] {
        var names: [String] = []
        if memory == nil { names.append("memory") }
        if pids == nil { names.append("pids") }
        if cpu == nil { names.append("cpu accounting (cpuacct or cgroup2 cpu.stat)") }
        return names
    }

    /// Reads /proc/self/mountinfo and /proc/self/cgroup.
    static func detect(subtreeName: String) -> CgroupLayout {
        let mountinfo = FileOps.read("/proc/self/mountinfo", limit: 1 << 22) ?? ""
        let membership = FileOps.read("/proc/self/cgroup") ?? ""

        var v1Mounts: [String: (mountPoint: String, root: String)] = [:]  // controller -> mount
        var v2Mount: (mountPoint: String, root: String)?
        for line in mountinfo.split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let pre = halves[0].split(separator: " ")
            let post = halves[1].split(separator: " ")
            guard pre.count >= 5, post.count >= 3 else { continue }
            let root = String(pre[3]), mountPoint = String(pre[4])
            if post[0] == "cgroup2" {
                v2Mount = v2Mount ?? (mountPoint, root)
            } else if post[0] == "cgroup" {
                for option in post[2].split(separator: ",") where v1Mounts[String(option)] == nil {
                    v1Mounts[String(option)] = (mountPoint, root)
                }
            }
        }
        var v1Paths: [String: String] = [:]
        var v2Path: String?
        for line in membership.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[0] == "0" && parts[1].isEmpty {
                v2Path = String(parts[2])
            } else {
                for controller in parts[1].split(separator: ",") { v1Paths[String(controller)] = String(parts[2]) }
            }
        }

        func join(_ mount: (mountPoint: String, root: String), _ path: String) -> String {
            // Inside a cgroup namespace the mount's root is the namespace root; strip it.
            var rel = path
            if mount.root != "/", rel.hasPrefix(mount.root) { rel.removeFirst(mount.root.count) }
            let dir = mount.mountPoint + (rel == "/" ? "" : rel)
            return dir + "/" + subtreeName
        }

        var v2Controllers: Set<String> = []
        var v2Base: String?
        if let mount = v2Mount, let path = v2Path {
            let own = join(mount, path)
            v2Base = own
            let ownDir = String(own.dropLast(subtreeName.count + 1))
            let text = FileOps.read(ownDir + "/cgroup.controllers") ?? ""
            v2Controllers = Set(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        }
        func place(_ v1Name: String, _ v2Name: String?) -> Placement? {
            if let v2Name, let base = v2Base, v2Controllers.contains(v2Name) { return Placement(version: .v2, base: base) }
            if let mount = v1Mounts[v1Name], let path = v1Paths[v1Name] { return Placement(version: .v1, base: join(mount, path)) }
            return nil
        }
        var layout = CgroupLayout(memory: place("memory", "memory"), pids: place("pids", "pids"), cpu: place("cpuacct", nil))
        // cgroup2 reports CPU usage in cpu.stat of every group, with or without the cpu controller.
        if layout.cpu == nil, let base = v2Base, layout.memory?.version == .v2 {
            layout.cpu = Placement(version: .v2, base: base)
        }
        return layout
    }

    /// Creates assay's subtree in every placement and, on cgroup2, enables the controllers.
    func createSubtrees() throws(SandboxError) {
        for placement in placements {
            if mkdir(placement.base, 0o755) < 0 && errno != EEXIST {
                throw SandboxError(.isolationUnavailable,
                    "cannot create the cgroup \(placement.base); assay must be able to write to its own cgroup (run as root with cgroupfs mounted read-write)",
                    errno: errno)
            }
            if placement.version == .v2 {
                var wanted: [String] = []
                if memory == placement { wanted.append("+memory") }
                if pids == placement { wanted.append("+pids") }
                let parent = String(placement.base[..<placement.base.lastIndex(of: "/")!])
                for dir in [parent, placement.base] {
                    for controller in wanted {
                        let rc = FileOps.write(dir + "/cgroup.subtree_control", controller)
                        if rc != 0 {
                            throw SandboxError(.isolationUnavailable,
                                "cannot enable the \(controller.dropFirst()) controller in \(dir) (cgroup2 allows no processes in a group that delegates controllers); start assay in a leaf cgroup of its own, e.g. with systemd-run --scope -p Delegate=yes",
                                errno: rc)
                        }
                    }
                }
            }
        }
    }

    /// Removes subtrees left by assay processes that no longer exist (after a crash), and this
    /// process's own subtree if a crashed holder of the same uid block left it.
    ///
    /// Subtrees are named `<prefix><k>` after the uid block `k` their Sandbox holds, and a block
    /// is live exactly while a process holds its lock (`UidBlocks`). A pid in the name checked
    /// with kill(pid, 0) was wrong across pid namespaces: another container's live assay may have
    /// a pid that is free here (its cgroups removed under it), and a dead one's pid may be reused.
    func removeStaleSubtrees(prefix: String, ownBlock: Int) {
        for placement in placements {
            let parent = String(placement.base[..<placement.base.lastIndex(of: "/")!])
            for name in FileOps.entries(parent) {
                guard let block = UidBlocks.block(in: name, prefix: prefix) else { continue }
                if block == ownBlock {
                    removeCgroupTree(parent + "/" + name)
                } else {
                    UidBlocks.ifAbandoned(block: block) { removeCgroupTree(parent + "/" + name) }
                }
            }
        }
    }
}

/// A slot's cgroups, one per distinct hierarchy, made once and reused by every run of the slot.
///
/// Creating and removing cgroups costs about 0.4 ms a run (kernfs directory operations in three
/// v1 hierarchies); a slot runs one box at a time, so its groups are simply reset between runs:
/// limits rewritten when they change, counters reset (v1) or read as a baseline (v2).
/// Descriptors stay open, so a run touches the groups only through pread/pwrite.
final class SlotCgroup: @unchecked Sendable {
    // @unchecked: a slot, and so its cgroup, belongs to one run at a time (SlotPool).
    private let layout: CgroupLayout
    private(set) var directories: [String] = []
    /// Write ends the child joins through (see spawn.c `join_cgroups`).
    private(set) var procsFDs: [Int32] = []
    /// cpuacct.usage (v1, ns) or cpu.stat (v2) of the slot, for the supervisor's polling.
    private(set) var cpuFD: Int32 = -1
    private(set) var cpuFormat: Int32 = 0
    private var files: [String: Int32] = [:]
    private var applied: (memory: Int, processes: Int)?
    private var baseline = Baseline()

    /// Counters as they stood when the current run began.
    struct Baseline {
        var cpuNanoseconds: Int64 = 0
        var usageBytes = 0
        var oomKills = 0
        var limitHits = 0
    }

    init(layout: CgroupLayout, name: String) throws(SandboxError) {
        self.layout = layout
        do throws(SandboxError) {
            for placement in layout.placements {
                let dir = placement.base + "/" + name
                if mkdir(dir, 0o755) < 0 && errno != EEXIST {
                    throw SandboxError(.hostSetupFailed, "cannot create the slot cgroup \(dir)", errno: errno)
                }
                directories.append(dir)
                let v1 = placement.version == .v1
                procsFDs.append(try open(v1 ? dir + "/cgroup.procs" : try Self.leaf(dir, layout, placement), O_WRONLY))
                if layout.memory == placement {
                    let names = v1 ? ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.max_usage_in_bytes",
                                      "memory.usage_in_bytes", "memory.failcnt", "memory.oom_control"]
                                   : ["memory.max", "memory.swap.max", "memory.peak", "memory.current", "memory.events"]
                    // Counters that can be reset are opened for writing; the rest (usage, events) only read.
                    for file in names { files[file] = (try? open(dir + "/" + file, O_RDWR)) ?? (try? open(dir + "/" + file, O_RDONLY)) }
                    guard files[v1 ? "memory.limit_in_bytes" : "memory.max"] != nil else {
                        throw SandboxError(.hostSetupFailed, "cannot open the memory limit of \(dir)")
                    }
                }
                if layout.pids == placement {
                    files["pids.max"] = try open(dir + "/pids.max", O_RDWR)
                    files["pids.current"] = try? open(dir + "/pids.current", O_RDONLY)
                }
                if layout.cpu == placement {
                    cpuFD = try open(dir + (v1 ? "/cpuacct.usage" : "/cpu.stat"), v1 ? O_RDWR : O_RDONLY)
                    cpuFormat = v1 ? 0 : 1
                }
            }
        } catch {
            close()
            throw error
        }
    }

    /// cgroup2 allows no process in a group whose children have controllers, and a slot has a
    /// child (the warm harness's per-test group): its processes join `<dir>/box`, while limits
    /// and counters stay on `<dir>`, which counts its children hierarchically.
    private static func leaf(_ dir: String, _ layout: CgroupLayout, _ placement: CgroupLayout.Placement) throws(SandboxError) -> String {
        for (controller, home) in [("+memory", layout.memory), ("+pids", layout.pids)] where home == placement {
            let rc = FileOps.write(dir + "/cgroup.subtree_control", controller)
            if rc != 0 { throw SandboxError(.hostSetupFailed, "cannot enable \(controller.dropFirst()) in \(dir)", errno: rc) }
        }
        let box = dir + "/box"
        if mkdir(box, 0o755) < 0 && errno != EEXIST {
            throw SandboxError(.hostSetupFailed, "cannot create the cgroup \(box)", errno: errno)
        }
        return box + "/cgroup.procs"
    }

    /// Descriptors the warm harness is handed to run each test in this group (it is then the
    /// slot's per-test group): the harness writes each test's pid to each `procs` descriptor
    /// before the test runs anything, and the harness reads (and, on cgroup v1, resets) the counters between
    /// tests. `names` says which inherited descriptor (3, 4, …) is which.
    func harnessHandles() -> (fds: [Int32], names: WireJSON) {
        var fds: [Int32] = []
        var names: [(String, WireJSON)] = []
        func name(_ key: String, _ fd: Int32?) {
            guard let fd, fd >= 0 else { return }
            fds.append(fd)
            names.append((key, .int(2 + fds.count)))
        }
        var procs: [Int] = []
        for fd in procsFDs where fd >= 0 {
            fds.append(fd)
            procs.append(2 + fds.count)
        }
        names.append(("procs", .ints(procs)))
        name("cpu", cpuFD)
        names.append(("cpu_format", .string(cpuFormat == 0 ? "ns" : "stat")))
        names.append(("v1", .bool(v1Memory)))
        name("peak", files[v1Memory ? "memory.max_usage_in_bytes" : "memory.peak"])
        name("usage", files[v1Memory ? "memory.usage_in_bytes" : "memory.current"])
        name("oom", files[v1Memory ? "memory.oom_control" : "memory.events"])
        if v1Memory { name("failcnt", files["memory.failcnt"]) }
        return (fds, .object(names))
    }

    private func open(_ path: String, _ flags: Int32) throws(SandboxError) -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC)
        if fd < 0 { throw SandboxError(.hostSetupFailed, "cannot open \(path)", errno: errno) }
        return fd
    }

    private var v1Memory: Bool { layout.memory?.version == .v1 }

    /// Applies `limits` and takes the baseline for a new run. Every process of the previous run
    /// has been killed (its pid namespace is gone), but the kernel releases a killed task's pid
    /// charge only once the task is reaped: a fork bomb's thousands of tasks can still count
    /// against pids.max for a few milliseconds, and the new run's first fork would fail (a
    /// verdict the program did not earn). So the run waits for the count to reach 0.
    func begin(_ limits: Limits) throws(SandboxError) {
        if let fd = files["pids.current"] {
            var waited = 0
            while let count = Int(read(fd)?.trimmed ?? ""), count > 0 {
                guard waited < 5_000 else {
                    throw SandboxError(.hostSetupFailed, "the slot's pids cgroup still counts \(count) tasks of an earlier run after 5 s")
                }
                usleep(1_000)
                waited += 1
            }
        }
        if applied?.memory != limits.memoryBytes, layout.memory != nil {
            try setMemoryLimit(limits.memoryBytes)
        }
        if applied?.processes != limits.maxProcesses, let fd = files["pids.max"] {
            try write(fd, String(limits.maxProcesses), "pids.max")
        }
        applied = (limits.memoryBytes, limits.maxProcesses)
        if v1Memory {
            // Writing 0 resets the peak to the current usage and the limit-hit counter to 0.
            if let fd = files["memory.max_usage_in_bytes"] { try write(fd, "0", "memory.max_usage_in_bytes") }
            if let fd = files["memory.failcnt"] { try write(fd, "0", "memory.failcnt") }
        } else if let fd = files["memory.peak"] {
            // cgroup2 resets memory.peak for this descriptor (Linux 6.12+); older kernels report
            // the slot's lifetime peak.
            _ = pwrite(fd, "reset", 5, 0)
        }
        if cpuFormat == 0, cpuFD >= 0 { try write(cpuFD, "0", "cpuacct.usage") }
        baseline = Baseline(
            cpuNanoseconds: cpuFormat == 0 ? 0 : Self.cpuStatNanoseconds(read(cpuFD)),
            usageBytes: Int(read(files[v1Memory ? "memory.usage_in_bytes" : "memory.current"])?.trimmed ?? "") ?? 0,
            oomKills: oomKills, limitHits: v1Memory ? 0 : (keyed(files["memory.events"], "max") ?? 0))
    }

    /// CPU already counted when the run began (subtracted by the supervisor).
    var cpuBaselineNanoseconds: Int64 { baseline.cpuNanoseconds }

    /// Peak memory of the run: the group's peak above what the slot held when the run began
    /// (page cache charged by earlier runs), as a fresh group would have counted it. (The
    /// rusage maxrss is no substitute: a vfork-style child shares the parent's memory until it
    /// execs, and the kernel folds that into maxrss.)
    /// When the run pressed against the limit, the kernel reclaimed that old page cache to make
    /// room, so the run itself used up to the whole peak: then the peak is the answer.
    var peakMemoryBytes: Int? {
        let key = v1Memory ? "memory.max_usage_in_bytes" : "memory.peak"
        guard let peak = Int(read(files[key])?.trimmed ?? "") else { return nil }
        if limitHitsSinceBegin > 0 || oomKillsSinceBegin > 0 { return peak }
        return max(peak - baseline.usageBytes, 0)
    }

    /// OOM kills inside the slot since the run began.
    var oomKillsSinceBegin: Int { oomKills - baseline.oomKills }

    /// Times an allocation hit the limit since the run began (a refused allocation may end as MemoryError).
    var limitHitsSinceBegin: Int {
        if v1Memory { return Int(read(files["memory.failcnt"])?.trimmed ?? "") ?? 0 }
        return (keyed(files["memory.events"], "max") ?? 0) - baseline.limitHits
    }

    private var oomKills: Int {
        keyed(files[v1Memory ? "memory.oom_control" : "memory.events"], "oom_kill") ?? 0
    }

    private func setMemoryLimit(_ bytes: Int) throws(SandboxError) {
        let value = String(bytes)
        if v1Memory {
            // memsw (memory + swap) must never be below the memory limit: no swap at all for
            // the box, and the order of the two writes depends on the direction of the change.
            let memsw = files["memory.memsw.limit_in_bytes"]
            // A new group starts unlimited, so its first limit is a lowering.
            let raising = applied.map { $0.memory < bytes } ?? false
            if raising, let memsw { try write(memsw, value, "memory.memsw.limit_in_bytes") }
            try write(files["memory.limit_in_bytes"]!, value, "memory.limit_in_bytes")
            if !raising, let memsw { try write(memsw, value, "memory.memsw.limit_in_bytes") }
        } else {
            try write(files["memory.max"]!, value, "memory.max")
            if let swap = files["memory.swap.max"] { _ = pwrite(swap, "0", 1, 0) }
        }
    }

    private func write(_ fd: Int32, _ text: String, _ name: String) throws(SandboxError) {
        let n = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        if n < 0 { throw SandboxError(.hostSetupFailed, "cannot set \(name) to \(text) in \(directories.first ?? "")", errno: errno) }
    }

    private func read(_ fd: Int32?) -> String? {
        guard let fd, fd >= 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }

    private func keyed(_ fd: Int32?, _ key: String) -> Int? {
        guard let text = read(fd) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == key { return Int(parts[1]) }
        }
        return nil
    }

    private static func cpuStatNanoseconds(_ text: String?) -> Int64 {
        guard let text, let line = text.split(separator: "\n").first(where: { $0.hasPrefix("usage_usec ") }),
              let usec = Int64(line.dropFirst(11)) else { return 0 }
        return usec * 1000
    }

    private func close() {
        for fd in procsFDs + Array(files.values) + [cpuFD] where fd >= 0 { Glibc.close(fd) }
        procsFDs = []
        files = [:]
        cpuFD = -1
    }

    deinit {
        close()
        for dir in directories { removeCgroupTree(dir) }
    }
}

/// Removes a cgroup directory and its children. Every process in them is dead, but the kernel
/// may need a moment to drop the last task, hence the retries on EBUSY.
func removeCgroupTree(_ path: String) {
    for name in FileOps.entries(path) {
        var st = stat()
        if lstat(path + "/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { removeCgroupTree(path + "/" + name) }
    }
    for attempt in 0..<200 {
        if rmdir(path) == 0 || errno == ENOENT { return }
        if errno != EBUSY { return }
        usleep(attempt < 20 ? 100 : 1000)
    }
}

extension CgroupLayout {
    /// Refuses a host without the controllers the limits need, naming them and how to enable
    /// them; with `allowWeaker`, returns one warning per gap instead (nothing falls back silently).
    func refuseOrWarn(allowWeaker: Bool) throws(SandboxError) -> [String] {
        guard !missing.isEmpty else { return [] }
        let names = missing.joined(separator: ", ")
        guard allowWeaker else {
            throw SandboxError(.isolationUnavailable,
                "the host has no usable cgroup controller for: \(names). Mount cgroup v2 with the memory and pids controllers delegated to assay's cgroup (or the v1 memory, pids and cpuacct hierarchies); in Docker use --privileged --cgroupns=host. To run anyway with weaker rlimit-only limits, pass --allow-weaker-isolation")
        }
        return missing.map { "no cgroup for \($0): limits fall back to rlimits (memory by RLIMIT_AS, processes by RLIMIT_NPROC, CPU by RLIMIT_CPU and wall time)" }
    }

    /// Removes assay's subtrees (at shutdown of a ``Sandbox``).
    static func removeTrees(_ layout: CgroupLayout) {
        for placement in layout.placements { removeCgroupTree(placement.base) }
    }
}
