import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks, each against a baseline measured in the same run.",
        subcommands: [BenchSandbox.self, BenchEngine.self])
}
