import ArgumentParser

@main
struct Assay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assay",
        abstract: "Sandboxed code execution and rewards for RL on code.",
        subcommands: [RunCommand.self, Bench.self]
    )
}
