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

    /// Removes subtrees left by assay processes that no longer exist (after a crash).
    func removeStaleSubtrees(prefix: String) {
        for placement in placements {
            let parent = String(placement.base[..<placement.base.lastIndex(of: "/")!])
            guard let dir = opendir(parent) else { continue }
            var stale: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
                guard name.hasPrefix(prefix), let pid = Int32(name.dropFirst(prefix.count)) else { continue }
                if kill(pid, 0) < 0 && errno == ESRCH { stale.append(parent + "/" + name) }
            }
            closedir(dir)
            for path in stale { RunCgroup.removeTree(path) }
        }
    }
}

/// The cgroups of one run, one per distinct hierarchy.
final class RunCgroup {
    private let layout: CgroupLayout
    private let name: String
    private(set) var directories: [String] = []
    /// Write ends the child joins through (see spawn.c `join_cgroups`).
    private(set) var procsFDs: [Int32] = []
    /// cpuacct.usage (v1, ns) or cpu.stat (v2) of the run, for the supervisor's polling.
    private(set) var cpuFD: Int32 = -1
    private(set) var cpuFormat: Int32 = 0

    init(layout: CgroupLayout, name: String, limits: Limits) throws(SandboxError) {
        self.layout = layout
        self.name = name
        do throws(SandboxError) {
            for placement in layout.placements {
                let dir = placement.base + "/" + name
                if mkdir(dir, 0o755) < 0 {
                    throw SandboxError(.hostSetupFailed, "cannot create the run cgroup \(dir)", errno: errno)
                }
                directories.append(dir)
                try configure(dir, placement, limits)
                let fd = open(dir + "/cgroup.procs", O_WRONLY | O_CLOEXEC)
                if fd < 0 { throw SandboxError(.hostSetupFailed, "cannot open \(dir)/cgroup.procs", errno: errno) }
                procsFDs.append(fd)
            }
        } catch {
            destroy()
            throw error
        }
    }

    private func configure(_ dir: String, _ placement: CgroupLayout.Placement, _ limits: Limits) throws(SandboxError) {
        func set(_ file: String, _ value: String, optional: Bool = false) throws(SandboxError) {
            let rc = FileOps.write(dir + "/" + file, value)
            if rc != 0 && !(optional && rc == ENOENT) {
                throw SandboxError(.hostSetupFailed, "cannot set \(dir)/\(file) to \(value)", errno: rc)
            }
        }
        let v1 = placement.version == .v1
        if layout.memory == placement {
            try set(v1 ? "memory.limit_in_bytes" : "memory.max", String(limits.memoryBytes))
            // No swap: with swap a memory bomb would page out instead of hitting the limit.
            if v1 {
                try set("memory.memsw.limit_in_bytes", String(limits.memoryBytes), optional: true)
            } else {
                try set("memory.swap.max", "0", optional: true)
            }
        }
        if layout.pids == placement {
            try set("pids.max", String(limits.maxProcesses))
        }
        if layout.cpu == placement {
            let file = v1 ? "cpuacct.usage" : "cpu.stat"
            cpuFD = open(dir + "/" + file, O_RDONLY | O_CLOEXEC)
            if cpuFD < 0 { throw SandboxError(.hostSetupFailed, "cannot open \(dir)/\(file)", errno: errno) }
            cpuFormat = v1 ? 0 : 1
        }
    }

    private func directory(for placement: CgroupLayout.Placement?) -> String? {
        guard let placement else { return nil }
        return placement.base + "/" + name
    }

    /// Peak memory of the run in bytes (v1 max_usage_in_bytes, v2 memory.peak).
    var peakMemoryBytes: Int? {
        guard let dir = directory(for: layout.memory) else { return nil }
        return FileOps.readInt(dir + (layout.memory!.version == .v1 ? "/memory.max_usage_in_bytes" : "/memory.peak"))
    }

    /// How often the OOM killer struck inside the run.
    var oomKills: Int {
        guard let dir = directory(for: layout.memory) else { return 0 }
        if layout.memory!.version == .v1 { return FileOps.readKeyed(dir + "/memory.oom_control", key: "oom_kill") ?? 0 }
        return FileOps.readKeyed(dir + "/memory.events", key: "oom_kill") ?? 0
    }

    /// How often an allocation hit the limit (a refused allocation may end as MemoryError).
    var limitHits: Int {
        guard let dir = directory(for: layout.memory) else { return 0 }
        if layout.memory!.version == .v1 { return FileOps.readInt(dir + "/memory.failcnt") ?? 0 }
        return FileOps.readKeyed(dir + "/memory.events", key: "max") ?? 0
    }

    /// Closes the descriptors and removes the groups. Every process of the run is dead by now
    /// (its pid namespace is gone), but the kernel may need a moment to drop the last task.
    func destroy() {
        for fd in procsFDs { close(fd) }
        procsFDs = []
        if cpuFD >= 0 { close(cpuFD) }
        cpuFD = -1
        for dir in directories { Self.removeTree(dir) }
        directories = []
    }

    static func removeTree(_ path: String) {
        if let dir = opendir(path) {
            var children: [String] = []
            while let entry = readdir(dir) {
                guard entry.pointee.d_type == DT_DIR else { continue }
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
                if name != "." && name != ".." { children.append(path + "/" + name) }
            }
            closedir(dir)
            for child in children { removeTree(child) }
        }
        for attempt in 0..<200 {
            if rmdir(path) == 0 || errno == ENOENT { return }
            if errno != EBUSY { return }
            usleep(attempt < 20 ? 100 : 1000)
        }
    }

    deinit { destroy() }
}

extension CgroupLayout {
    /// Removes assay's subtrees (at shutdown of a ``Sandbox``).
    static func removeTrees(_ layout: CgroupLayout) {
        for placement in layout.placements { RunCgroup.removeTree(placement.base) }
    }
}
