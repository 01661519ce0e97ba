import Glibc
import Synchronization

/// A concurrent run's exclusive resources: a uid no other live run has (so RLIMIT_NPROC and
/// file ownership separate boxes too), a box mount point, a pooled empty network namespace and
/// its cgroups.
struct Slot: Sendable {
    let index: Int
    let uid: uid_t
    let boxPath: String
    let netnsFD: Int32
    /// nil only in the weaker mode without cgroups.
    let cgroup: SlotCgroup?
    /// A child of `cgroup` that the warm harness moves each test into, so every test has the
    /// cold path's own memory and process limits and its CPU is counted over all its processes.
    let testCgroup: SlotCgroup?
}

/// Hands out slots; a slot is never used by two runs at once.
final class SlotPool: Sendable {
    private enum Grant {
        case reuse(Slot)
        case create(index: Int)
    }
    private struct State {
        var free: [Slot] = []
        var created = 0
    }
    private let state = Mutex(State())
    private let uidBase: uid_t
    private let directory: String
    private let poolNetworkNamespaces: Bool
    private let cgroups: CgroupLayout
    static let maximum = UidBlocks.blockSize

    init(uidBase: uid_t, directory: String, poolNetworkNamespaces: Bool, cgroups: CgroupLayout) {
        self.uidBase = uidBase
        self.cgroups = cgroups
        self.directory = directory
        self.poolNetworkNamespaces = poolNetworkNamespaces
    }

    func acquire() throws(SandboxError) -> Slot {
        let grant: Grant? = state.withLock { s in
            if let slot = s.free.popLast() { return .reuse(slot) }
            guard s.created < Self.maximum else { return nil }
            s.created += 1
            return .create(index: s.created - 1)
        }
        switch grant {
        case .reuse(let slot): return slot
        case .create(let index): return try make(index: index)
        case nil: throw SandboxError(.hostSetupFailed, "more than \(Self.maximum) concurrent runs; lower the worker count")
        }
    }

    private func make(index: Int) throws(SandboxError) -> Slot {
        let path = "\(directory)/box-\(index)"
        if mkdir(path, 0o700) < 0 && errno != EEXIST {
            throw SandboxError(.hostSetupFailed, "cannot create the box mount point \(path)", errno: errno)
        }
        var netns: Int32 = -1
        if poolNetworkNamespaces {
            netns = Shim.createNetworkNamespace()
            if netns < 0 {
                throw SandboxError(.isolationUnavailable,
                    "cannot create a network namespace; assay needs CAP_SYS_ADMIN (run as root, or in a container started with --privileged)",
                    errno: -netns)
            }
        }
        let cgroup = cgroups.placements.isEmpty ? nil : try SlotCgroup(layout: cgroups, name: "slot-\(index)")
        let testCgroup = cgroup == nil ? nil : try SlotCgroup(layout: cgroups, name: "slot-\(index)/test")
        return Slot(index: index, uid: uidBase + uid_t(index), boxPath: path, netnsFD: netns, cgroup: cgroup,
                    testCgroup: testCgroup)
    }

    func release(_ slot: Slot) {
        state.withLock { $0.free.append(slot) }
    }

    deinit {
        // Every slot is back in the pool once its Sandbox is gone.
        for slot in state.withLock({ $0.free }) where slot.netnsFD >= 0 { close(slot.netnsFD) }
    }
}
