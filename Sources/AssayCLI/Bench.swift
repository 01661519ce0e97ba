import ArgumentParser

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks, each against a baseline measured in the same run.",
        subcommands: [BenchSandbox.self, BenchStartup.self, BenchGrade.self, BenchServe.self, BenchEngine.self, BenchTrain.self])
}
