import ArgumentParser
import Foundation
import Sandboxing

struct BenchSandbox: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Median latency of /bin/true and python3 -c pass through the full sandbox vs a bare posix_spawn.")

    @Option(help: "Runs per command and variant.")
    var runs = 200

    @Option(help: "Warm-up runs per command and variant (not counted).")
    var warmup = 20

    @OptionGroup var sandboxOptions: SandboxOptions

    func run() throws {
        let sandbox = try sandboxOptions.makeSandbox()
        let commands: [(String, [String])] = [
            ("/bin/true", ["/usr/bin/true"]),
            ("python3 -c pass", ["/usr/bin/python3", "-I", "-S", "-c", "pass"]),
        ]
        print("assay bench sandbox: \(runs) runs each, interleaved (bare, sandboxed, bare, ...); times in ms")
        print("sandbox: pid+mount+ipc+uts namespaces, pooled empty netns, tmpfs root, cgroups, uid drop, no caps, seccomp")
        print("")
        print("command            variant      p10      median    p90     | overhead (median)")
        for (label, argv) in commands {
            var bare = Samples(), boxed = Samples()
            for i in 0..<(warmup + runs) {
                let b = bareSpawn(argv)
                let start = monotonicMilliseconds()
                let result = try sandbox.run(command: argv, limits: Limits(cpuTimeSeconds: 5))
                let s = monotonicMilliseconds() - start
                guard result.verdict == .ok else {
                    throw ValidationError("the sandboxed \(label) ended with \(result.verdict.rawValue): \(result.stderrText)")
                }
                if i >= warmup {
                    bare.add(b)
                    boxed.add(s)
                }
            }
            let delta = boxed.median - bare.median
            let ratio = boxed.median / bare.median
            print(label.padding(toLength: 18, withPad: " ", startingAt: 0), "bare     ",
                  formatMs(bare.percentile(10)), formatMs(bare.median), formatMs(bare.percentile(90)), " |")
            print(String(repeating: " ", count: 18), "sandboxed",
                  formatMs(boxed.percentile(10)), formatMs(boxed.median), formatMs(boxed.percentile(90)),
                  " | +\(String(format: "%.3f", delta)) ms (\(String(format: "%.2f", ratio))x)")
        }
    }
}
