import ArgumentParser

@main
struct Assay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assay",
        abstract: "Sandboxed code execution and rewards for RL on code.",
        subcommands: [RunCommand.self, GradeCommand.self, CurateCommand.self, ServeCommand.self, TrainCommand.self, DemoCommand.self, ReportCommand.self, Bench.self]
    )
}
