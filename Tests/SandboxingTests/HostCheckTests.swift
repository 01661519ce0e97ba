@testable import Sandboxing
import Testing

/// A host that lacks an isolation layer is refused, never silently used.
@Suite struct HostCheckTests {
    @Test func missingCgroupControllersAreRefusedByName() throws {
        let bare = CgroupLayout()
        #expect {
            _ = try bare.refuseOrWarn(allowWeaker: false)
        } throws: { error in
            let e = error as! SandboxError
            return e.code == .isolationUnavailable && e.message.contains("memory") && e.message.contains("pids")
                && e.message.contains("--allow-weaker-isolation")
        }
    }

    @Test func theWeakerModeWarnsOncePerGap() throws {
        let partial = CgroupLayout(memory: .init(version: .v1, base: "/sys/fs/cgroup/memory/x"), pids: nil, cpu: nil)
        let warnings = try partial.refuseOrWarn(allowWeaker: true)
        #expect(warnings.count == 2)
        #expect(warnings.allSatisfy { $0.contains("fall back") })
    }

    @Test func thisHostHasEveryController() throws {
        // CI and the development machines must run the full sandbox; if this fails the host
        // lost a cgroup controller and every other sandbox test would be meaningless.
        let layout = CgroupLayout.detect(subtreeName: "probe")
        #expect(layout.missing.isEmpty, "missing: \(layout.missing)")
    }
}
