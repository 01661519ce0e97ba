import Dispatch
import Glibc
@testable import Sandboxing
import Testing

/// The spawn fence (`SpawnFence`), decided by ordering rather than by luck.
///
/// The race it closes (a box child cloned while another box's binary is open for writing keeps a
/// copy of the write descriptor until its exec, and an exec of that binary meanwhile fails with
/// ETXTBSY) is too narrow to hit on demand: `HostileTests.compiledBinariesRunWhileOtherBoxesSpawn`
/// saw about one failure in 4000 runs without the fence, so it passed about 37% of the time with
/// the fence removed. These tests hold one side of the fence open for a while and check that the
/// other side waited for it: with the fence that holds whatever the machine's load (the waiting
/// run can only end after the release); without it the run ends inside the hold.
@Suite(.serialized, .enabled(if: TestSupport.isRoot, "the sandbox needs root"))
struct SpawnFenceTests {
    /// How long a side of the fence is held. Other suites' spawns wait that long too (their wall
    /// clocks run meanwhile), so it is kept short; a box run of `/bin/true` takes a few ms.
    static let holdMicroseconds: UInt32 = 300_000

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    static let limits = Limits(cpuTimeSeconds: 1, wallTimeSeconds: 10)

    /// Holds `side` of the fence for `holdMicroseconds` on another thread; returns once it is
    /// held, with what `join()` gives: the time just before the release.
    static func hold(_ side: @escaping @Sendable (() -> UInt64) -> UInt64) -> Background<UInt64> {
        let entered = DispatchSemaphore(value: 0)
        let holder = Background<UInt64> {
            side {
                entered.signal()
                usleep(holdMicroseconds)
                return now()
            }
        }
        entered.wait()
        return holder
    }

    @Test func noBoxIsClonedWhileABoxBinaryIsOpenForWriting() throws {
        let sandbox = TestSupport.sandbox
        _ = try sandbox.run(command: ["/bin/true"], limits: Self.limits)  // the host template is made once, under the fence
        let writer = Self.hold { body in SpawnFence.writing { body() } }
        let r = try sandbox.run(command: ["/bin/true"], limits: Self.limits)
        let ended = Self.now()
        let released = writer.join()
        #expect(r.verdict == .ok)
        #expect(ended > released, "a box was cloned while a box binary was held open for writing (the spawn did not wait for the fence)")
    }

    @Test func noBinaryIsWrittenIntoABoxWhileAnotherBoxIsBeingCloned() throws {
        let sandbox = TestSupport.sandbox
        let program = try sandbox.prepare(source: "int main() { return 0; }\n", profile: TestSupport.profile("cpp"))
        _ = try sandbox.run(program, limits: Self.limits)
        let spawner = Self.hold { body in SpawnFence.spawning { body() } }
        let r = try sandbox.run(program, limits: Self.limits)  // writes the binary into its box, then runs it
        let ended = Self.now()
        let released = spawner.join()
        #expect(r.verdict == .ok)
        #expect(ended > released, "a binary was written into a box while another box's clone was in flight (the write did not wait for the fence)")
    }
}
