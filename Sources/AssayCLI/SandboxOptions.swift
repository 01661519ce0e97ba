import ArgumentParser
import Foundation
import Sandboxing

/// Options every command that runs programs shares.
struct SandboxOptions: ParsableArguments {
    @Option(name: .customLong("profiles"), help: "Directory of language profiles (default: $ASSAY_PROFILES or ./sandbox-profiles).")
    var profilesOverride: String?

    @Option(name: .customLong("state-dir"), help: "Host directory for box mount points.")
    var stateDirectory = "/run/assay"

    @Flag(name: .customLong("allow-weaker-isolation"),
          help: "Run even where the host lacks cgroup controllers, with rlimit-only limits (prints a warning).")
    var allowWeakerIsolation = false

    var profilesDirectory: String { profilesOverride ?? ProfileCatalog.defaultDirectory() }

    func makeSandbox() throws -> Sandbox {
        let sandbox = try Sandbox(configuration: .init(stateDirectory: stateDirectory, allowWeakerIsolation: allowWeakerIsolation))
        for warning in sandbox.warnings {
            FileHandle.standardError.write(Data("warning: weaker isolation: \(warning)\n".utf8))
        }
        return sandbox
    }
}

func readBytes(_ path: String, what: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("cannot read the \(what) '\(path)': no such file or not readable")
    }
    return [UInt8](data)
}

func readText(_ path: String, what: String) throws -> String {
    let bytes = try readBytes(path, what: what)
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw ValidationError("the \(what) '\(path)' is not valid UTF-8")
    }
    return text
}
