import Foundation
import Glibc

extension Sandbox {
    /// Runs one warm Python submission in one of this sandbox's slots, as a child of the zygote
    /// (``ZygoteProgram``) for `key`: the host side of what `execute` does for a cold run. The
    /// box gets the slot's cgroup with
    /// `boxLimits` (backstops for the whole submission), the per-test cgroup the harness moves
    /// each test into, the run's rlimits and the profile's seccomp filter; the host supervises
    /// its record stream, wall time and CPU exactly as a cold run's.
    ///
    /// - Returns: the box's outcome: for the harness, its stdout holds the records; for a
    ///   program, it is the program's own (its output, the status its init recorded).
    /// - Throws: ``SandboxError`` when the zygote or the box failed: never a verdict.
    func executeInZygote(_ key: PythonZygote.Key, boxLimits: Limits, seccomp: SandboxProfile.Seccomp,
                         work: ZygoteBoxWork) throws(SandboxError) -> RunResult {
        try boxLimits.validate()
        let filter = try filter(for: seccomp)
        let slot = try slots.acquire()
        defer { slots.release(slot) }
        guard let cgroup = slot.cgroup, let testCgroup = slot.testCgroup else {
            throw SandboxError(.isolationUnavailable,
                "the warm executor needs cgroups to give each test its own limits, and this host has none usable; use the cold executor (--executor cold)")
        }
        // A zygote found dead before it was sent anything is replaced once: no run had started.
        var attempt = 0
        while true {
            let zygote = try zygotes.zygote(for: key, sandbox: self)
            do throws(ZygoteRetry) {
                return try run(in: zygote, slot: slot, cgroup: cgroup, testCgroup: testCgroup, boxLimits: boxLimits,
                               filter: filter, work: work)
            } catch {
                if !zygote.usable { zygotes.discard(zygote) }
                switch error {
                case .failed(let failure): throw failure
                case .goneBeforeRequest where attempt == 0: attempt += 1
                case .goneBeforeRequest:
                    throw SandboxError(.supervisionFailed, "the Python zygote died twice before it got a submission")
                }
            }
        }
    }

    typealias ZygoteRetry = PythonZygote.SubmitFailure

    private func run(in zygote: PythonZygote, slot: Slot, cgroup: SlotCgroup, testCgroup: SlotCgroup, boxLimits: Limits,
                     filter: SeccompFilter, work: ZygoteBoxWork) throws(ZygoteRetry) -> RunResult {
        func fail(_ e: SandboxError) -> ZygoteRetry { .failed(e) }
        var open: [Int32] = []
        defer { for fd in open { close(fd) } }
        let stdoutPipe: (read: Int32, write: Int32), stderrPipe: (read: Int32, write: Int32)
        // Descriptors the box gets after the cgroup's (the harness's per-test handles, which the
        // slot keeps, or a program's status pipe and stdin, which are this run's), and the status
        // pipe's read end for a program.
        var extra: [Int32] = []
        var extraOwned = false
        var statusRead: Int32 = -1
        // The box's own limits: a program's box is its init and it, as a cold box.
        var cgroupLimits = boxLimits
        let jobFD: Int32
        do throws(SandboxError) {
            let job: [UInt8]
            switch work {
            case .harness(let harness):
                // The box holds the harness; the per-test group holds each test with its own limits.
                try testCgroup.begin(harness.testLimits)
                let handles = testCgroup.harnessHandles()
                job = harness.job(handles.names)
                extra = handles.fds
            case .program(let program):
                // The box's init is ours, not the program's: a process slot of its own on top.
                cgroupLimits.maxProcesses += 1
                job = program.job
                let status = try Shim.pipe()
                open += [status.read, status.write]
                statusRead = status.read
                let stdinFD = Shim.sealedMemfd(program.stdin)
                guard stdinFD >= 0 else { throw SandboxError(.hostSetupFailed, "cannot create the stdin memfd", errno: -stdinFD) }
                open.append(stdinFD)
                try FileOps.giveToBox([stdinFD], uid: slot.uid)
                extra = [status.write, stdinFD]
                extraOwned = true
            }
            try cgroup.begin(cgroupLimits)
            jobFD = Shim.sealedMemfd(job)
            guard jobFD >= 0 else { throw SandboxError(.hostSetupFailed, "cannot create the job memfd", errno: -jobFD) }
            open.append(jobFD)
            stdoutPipe = try Shim.pipe()
            open += [stdoutPipe.read, stdoutPipe.write]
            stderrPipe = try Shim.pipe()
            open += [stderrPipe.read, stderrPipe.write]
            try FileOps.giveToBox([jobFD, stdoutPipe.write, stderrPipe.write], uid: slot.uid)
        } catch { throw fail(error) }

        let kind: ZygoteBoxRequest.Kind
        if case .program = work { kind = .program } else { kind = .harness }
        let request = ZygoteBoxRequest(
            kind: kind, uid: slot.uid, procs: cgroup.procsFDs.count,
            boxBytes: boxLimits.workDirBytes + (1 << 20), boxInodes: boxLimits.workDirInodes + 64,
            rlimits: rlimits(for: cgroupLimits, hasCgroup: true), filter: filter.instructions)
        let start = Shim.nowNanoseconds()
        let started: PythonZygote.Started
        switch zygote.submit(request.bytes, fds: [jobFD, stdoutPipe.write, stderrPipe.write] + cgroup.procsFDs + extra,
                             netns: slot.netnsFD) {
        case .success(let box): started = box
        case .failure(let failure): throw failure
        }
        // The box holds its own copies now: ours must close, or the pipes would never reach EOF.
        // The supervisor owns (and closes) the read ends and the pidfd.
        for fd in [jobFD, stdoutPipe.write, stderrPipe.write] + (extraOwned ? extra : []) { close(fd) }
        open = statusRead >= 0 ? [statusRead] : []
        let status: Int32
        var outcome: Shim.Outcome
        do throws(SandboxError) {
            outcome = try Shim.supervise(Shim.Watch(
                pid: 0, pidfd: started.boxPidfd, stdoutFD: stdoutPipe.read, stderrFD: stderrPipe.read,
                stdoutCap: boxLimits.maxStdoutBytes, stderrCap: boxLimits.maxStderrBytes,
                wallLimitNanoseconds: Int64(boxLimits.wallTimeSeconds * 1e9),
                cpuLimitNanoseconds: Int64(boxLimits.cpuTimeSeconds * 1e9),
                cpuUsageFD: cgroup.cpuFD, cpuUsageFormat: cgroup.cpuFormat,
                cpuBaselineNanoseconds: cgroup.cpuBaselineNanoseconds, startNanoseconds: start))
            status = try zygote.awaitStatus(started)
        } catch { throw fail(error) }
        outcome.waitStatus = status
        var markers: [String] = []
        if case .program(let program) = work {
            markers = program.outOfMemoryMarkers
            // The box is gone and the zygote closed its copy long ago: this read sees the init's
            // record, then EOF.
            switch BoxInitRecord.read(from: statusRead) {
            case .exited(let programStatus): outcome.waitStatus = programStatus
            case .forkFailed(let err):
                throw fail(SandboxError(.spawnFailed, "the box's init could not start the program", stage: "init-fork", errno: err))
            case .execFailed:
                throw fail(SandboxError(.supervisionFailed, "the zygote's program box wrote a record it never writes"))
            case nil:
                // Killed before the program ended (the host's limits, the OOM killer): the box's
                // SIGKILL stands. Any other end of a box without a record is the sandbox's fault,
                // never the program's: nothing in the box can signal or trace its init. (The box
                // reports a failure to enter on its stdout, the program's runs on stderr.)
                guard status & 0x7F == SIGKILL else {
                    let said = String(decoding: outcome.stdout.suffix(2000) + outcome.stderr.suffix(2000), as: UTF8.self)
                    throw fail(SandboxError(.supervisionFailed, "the zygote's program box ended with status \(status) before the program did: \(said)"))
                }
            }
        }
        let usage = ResourceUsage(peakMemoryBytes: cgroup.peakMemoryBytes ?? 0, oomKills: cgroup.oomKillsSinceBegin,
                                  memoryLimitHits: cgroup.limitHitsSinceBegin)
        return VerdictRules.classify(outcome: outcome, usage: usage, limits: boxLimits, outOfMemoryMarkers: markers)
    }
}

/// What a box forked from the zygote runs.
enum ZygoteBoxWork {
    /// The warm harness: a submission's tests, each forked from the box's clean state.
    case harness(WarmHarnessSetup)
    /// One program (`/run_code`), with the box as its init, as a cold box's: `job` names the
    /// program (see ``ZygoteProgram`` `run_program`).
    case program(ZygoteProgramRun)
}

/// One program run for a zygote box: its job, stdin and the profile's out-of-memory markers.
struct ZygoteProgramRun {
    var job: [UInt8]
    var stdin: [UInt8]
    var outOfMemoryMarkers: [String]
}

extension Sandbox {
    /// Starts the Python zygote for `preamble` and `prelude` (see `runWarmPython`) now, and
    /// `count` slots (the runs that will go at once: the workers), so that the first submissions
    /// wait for neither.
    public func prewarmPythonZygotes(count: Int, profile: SandboxProfile, preamble: String, prelude: String = "") throws(SandboxError) {
        guard let interpreter = profile.run.argv.first else {
            throw SandboxError(.invalidConfiguration, "profile '\(profile.name)' has no interpreter")
        }
        let key = PythonZygote.Key(interpreter: interpreter, environment: environment(for: profile), preamble: preamble,
                                   prelude: prelude, preludePath: "/app/" + profile.sourceFile)
        // Held together, so `count` distinct slots each get one.
        _ = try zygotes.zygote(for: key, sandbox: self)
        // One zygote forks for every slot; the slots (their network namespaces and cgroups) are
        // made now too.
        var held: [Slot] = []
        defer { for slot in held { slots.release(slot) } }
        for _ in 0..<max(0, count) { held.append(try slots.acquire()) }
    }
}
