import ArgumentParser
import Foundation
import Glibc
import Rewards
import Sandboxing

/// Where one Python submission's time goes, one at a time: a bare interpreter start, what the
/// harness's and the preamble's imports add (what the zygote saves), the zygote's box with no
/// test, one trivial test in it, and a whole graded submission through the zygote and through
/// the cold path. Every variant runs once per round, interleaved, so all see the same load.
struct BenchStartup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "startup",
        abstract: "Per-submission latency breakdown of Python grading: bare interpreter, imports, zygote box, one test, graded (zygote vs cold).")

    @Option(help: "Rounds (each runs every variant once).")
    var rounds = 200

    @OptionGroup var sandboxOptions: SandboxOptions

    func run() throws {
        let sandbox = try sandboxOptions.makeSandbox()
        let catalog = try ProfileCatalog(directory: sandboxOptions.profilesDirectory)
        let python = try catalog.profile(named: "python3")
        let zygoteGrader = Grader(executor: try WarmPythonExecutor(sandbox: sandbox, catalog: catalog))
        let coldGrader = Grader(executor: try SandboxExecutor(sandbox: sandbox, catalog: catalog))
        let preamble = WarmPythonExecutor.warmImports(naming: [])
        let zygotePrelude = PythonHarness.driverPrelude  // the graders' zygote, as the graded variants use
        let harnessImports = "import ctypes, gc, json, mmap, os, select, signal, stat, sys, time, base64, io, traceback, socket, fcntl, resource\n"
        let problem = Problem(id: "echo", source: "bench", tests: [.stdio("1\n", "1\n")])
        let limits = Limits(cpuTimeSeconds: 2, memoryBytes: 256 << 20)

        struct Variant {
            var name: String
            var samples = Samples()
            var memory = Samples()
        }
        var variants = [
            "bare python3 -I -S -c pass", "bare python3 + harness and preamble imports",
            "cold sandbox: python3 -c pass", "zygote box, no test", "zygote box, one test (print(input()))",
            "graded 1-test submission, zygote", "graded 1-test submission, cold",
        ].map { Variant(name: $0) }
        func time(_ body: () throws -> Void) rethrows -> Double {
            let start = monotonicMilliseconds()
            try body()
            return monotonicMilliseconds() - start
        }
        print("assay bench startup: \(rounds) rounds, one submission at a time, variants interleaved (ms)")
        // Every box joins its slot's cgroup once; what that costs depends on the host's kernel
        // and cgroup mount options, so the figures below say which kind of host they came from.
        if let migration = try sandbox.measureCgroupMigration(idleMilliseconds: 50, samples: 15) {
            print(String(format: "host: one cgroup migration after 50 ms idle takes %.3f ms (median of 15); each box makes one", migration))
        }
        for round in 0...rounds {
            var ms: [Double] = []
            var memory: [Double?] = Array(repeating: nil, count: variants.count)
            ms.append(bareSpawn(["/usr/bin/python3", "-I", "-S", "-c", "pass"]))
            ms.append(bareSpawn(["/usr/bin/python3", "-I", "-c", harnessImports + preamble]))
            ms.append(try time {
                let r = try sandbox.run(source: "pass", profile: python, limits: limits)
                guard r.verdict == .ok else { throw ValidationError("cold python3 -c pass: \(r.verdict)") }
                memory[2] = Double(r.memoryBytes)
            })
            ms.append(try time {
                _ = try sandbox.runWarmPython(source: "pass", preamble: "", zygoteImports: preamble, zygotePrelude: zygotePrelude, tests: [],
                                              limits: limits, profile: python,
                                              stopAtFirstFailure: true)
            })
            ms.append(try time {
                let r = try sandbox.runWarmPython(source: "print(input())", preamble: "", zygoteImports: preamble, zygotePrelude: zygotePrelude,
                                                  tests: [WarmTest(stdin: Array("1\n".utf8))],
                                                  limits: limits, profile: python, stopAtFirstFailure: true)
                guard r.first?.run.stdoutText == "1\n" else { throw ValidationError("zygote echo: \(r.first?.run.verdict.rawValue ?? "none")") }
                memory[4] = Double(r[0].run.memoryBytes)
            })
            for grader in [zygoteGrader, coldGrader] {
                ms.append(try time {
                    let r = grader.grade(problem: problem, code: "print(input())", language: .python)
                    guard r.reward == 1 else { throw ValidationError("graded echo: \(r.reason) \(r.detail.prefix(200))") }
                })
            }
            guard round > 0 else { continue }  // the first round starts the zygotes
            for i in variants.indices {
                variants[i].samples.add(ms[i])
                if let m = memory[i] { variants[i].memory.add(m / 1048576) }
            }
        }
        print("variant                                        p10     median     p90   peak MiB (median)")
        for v in variants {
            let mem = v.memory.values.isEmpty ? "" : String(format: "%8.1f", v.memory.median)
            print(v.name.padding(toLength: 44, withPad: " ", startingAt: 0),
                  formatMs(v.samples.percentile(10)), formatMs(v.samples.median), formatMs(v.samples.percentile(90)), mem)
        }
        let m = variants.map(\.samples.median)
        print("")
        print("breakdown (medians):")
        print(String(format: "  interpreter start                        %8.3f ms", m[0]))
        print(String(format: "  harness and preamble imports (zygote: 0) %8.3f ms", m[1] - m[0]))
        print(String(format: "  zygote box: fork, enter, exit, report    %8.3f ms", m[3]))
        print(String(format: "  one test in it (fork, run, record)       %8.3f ms", m[4] - m[3]))
        print(String(format: "  grader's own work (driver, checking)     %8.3f ms", m[5] - m[4]))
        print(String(format: "graded 1-test submission: zygote %.3f ms, cold %.3f ms (%.2fx faster), bare interpreter start %.3f ms (zygote/bare %.2fx)",
                     m[5], m[6], m[6] / m[5], m[0], m[5] / m[0]))
    }
}
