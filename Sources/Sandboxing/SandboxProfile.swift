import Foundation

/// A language profile: how to compile and run a source file, with default limits and extra
/// seccomp policy. Profiles are data (`sandbox-profiles/*.json`), decoded here.
///
/// Paths inside the box: the source and any compiled artefact live read-only in `/app`; the
/// program's writable, non-executable working directory is `/work`; `/tmp` is writable too.
public struct SandboxProfile: Sendable, Codable, Hashable {
    /// A command run inside the box. `argv[0]` is an absolute path inside the box (never a
    /// shim on PATH: a pyenv shim costs ten times the interpreter's start-up).
    public struct Command: Sendable, Codable, Hashable {
        public var argv: [String]
        public init(argv: [String]) { self.argv = argv }
    }

    /// How a compiled language builds its artefact.
    public struct Compile: Sendable, Codable, Hashable {
        public var command: Command
        /// File the compiler writes into `/work`; it is copied to `/app/<artifact>` for runs.
        public var artifact: String
        /// Limits for the compiler's own run.
        public var limits: Limits
    }

    /// Extra seccomp rules on top of the built-in deny-list.
    public struct Seccomp: Sendable, Codable, Hashable {
        /// Syscalls that fail with EPERM.
        public var deny: [String]
        /// Syscalls that kill the program (verdict SYS).
        public var kill: [String]
        public init(deny: [String] = [], kill: [String] = []) {
            self.deny = deny
            self.kill = kill
        }
    }

    public var name: String
    public var description: String
    /// File name of the source inside `/app` (e.g. `main.py`).
    public var sourceFile: String
    public var compile: Compile?
    public var run: Command
    /// Extra environment variables (the base environment is minimal; see ``Sandbox``).
    public var environment: [String: String]
    public var limits: Limits
    public var seccomp: Seccomp
    /// Text that, on the last line of stderr of a failed run, means the runtime gave up for
    /// lack of memory (Python's `MemoryError`, C++'s `std::bad_alloc`). Such a run is MLE, not
    /// RE, even when the kernel refused the allocation before the cgroup was ever charged (a
    /// request beyond all memory fails at once). It decides only MLE versus RE, both failures,
    /// so a program printing it gains nothing.
    public var outOfMemoryMarkers: [String]

    public init(
        name: String, description: String, sourceFile: String, compile: Compile? = nil, run: Command,
        environment: [String: String] = [:], limits: Limits = Limits(), seccomp: Seccomp = Seccomp(),
        outOfMemoryMarkers: [String] = []
    ) {
        self.name = name
        self.description = description
        self.sourceFile = sourceFile
        self.compile = compile
        self.run = run
        self.environment = environment
        self.limits = limits
        self.seccomp = seccomp
        self.outOfMemoryMarkers = outOfMemoryMarkers
    }

    enum CodingKeys: String, CodingKey {
        case name, description, sourceFile, compile, run, environment, limits, seccomp, outOfMemoryMarkers
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name),
            description: try c.decode(String.self, forKey: .description),
            sourceFile: try c.decode(String.self, forKey: .sourceFile),
            compile: try c.decodeIfPresent(Compile.self, forKey: .compile),
            run: try c.decode(Command.self, forKey: .run),
            environment: try c.decodeIfPresent([String: String].self, forKey: .environment) ?? [:],
            limits: try c.decodeIfPresent(Limits.self, forKey: .limits) ?? Limits(),
            seccomp: try c.decodeIfPresent(Seccomp.self, forKey: .seccomp) ?? Seccomp(),
            outOfMemoryMarkers: try c.decodeIfPresent([String].self, forKey: .outOfMemoryMarkers) ?? []
        )
    }

    /// Checks what decoding cannot: absolute commands, plain file names, sane limits.
    public func validate() throws(SandboxError) {
        func fail(_ why: String) -> SandboxError {
            SandboxError(.invalidConfiguration, "profile '\(name)': \(why)")
        }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." })
        else { throw fail("the name must be letters, digits, '-', '_' or '.'") }
        for file in [sourceFile] + (compile.map { [$0.artifact] } ?? []) where !Self.isPlainFileName(file) {
            throw fail("'\(file)' must be a plain file name without '/'")
        }
        for command in [run] + (compile.map { [$0.command] } ?? []) {
            guard let exe = command.argv.first, exe.hasPrefix("/") else {
                throw fail("a command must start with an absolute path inside the box, got \(command.argv)")
            }
        }
        try limits.validate()
        try compile?.limits.validate()
    }

    static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }
}

/// The profiles found in a directory, by name.
public struct ProfileCatalog: Sendable {
    public private(set) var profiles: [String: SandboxProfile]

    /// Loads every `*.json` in `directory`. A broken file is an error naming the file.
    public init(directory: String) throws(SandboxError) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }.sorted()
        } catch {
            throw SandboxError(.invalidConfiguration,
                "cannot read the profile directory '\(directory)': \(error.localizedDescription); pass --profiles DIR or run from the assay checkout")
        }
        var profiles: [String: SandboxProfile] = [:]
        for file in names {
            let path = directory + "/" + file
            let profile: SandboxProfile
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                profile = try JSONDecoder().decode(SandboxProfile.self, from: data)
            } catch {
                throw SandboxError(.invalidConfiguration, "profile file '\(path)' is invalid: \(error)")
            }
            try profile.validate()
            guard profiles[profile.name] == nil else {
                throw SandboxError(.invalidConfiguration, "two profiles are named '\(profile.name)' in \(directory)")
            }
            profiles[profile.name] = profile
        }
        self.profiles = profiles
    }

    /// The profile called `name`, or an error listing the known ones.
    public func profile(named name: String) throws(SandboxError) -> SandboxProfile {
        guard let profile = profiles[name] else {
            throw SandboxError(.invalidConfiguration,
                "unknown profile '\(name)'; known profiles: \(profiles.keys.sorted().joined(separator: ", "))")
        }
        return profile
    }

    /// Where profiles are looked for when none is given: `$ASSAY_PROFILES`, then
    /// `sandbox-profiles/` in the current directory, then beside the executable's checkout.
    public static func defaultDirectory() -> String {
        if let env = ProcessInfo.processInfo.environment["ASSAY_PROFILES"], !env.isEmpty { return env }
        let cwd = FileManager.default.currentDirectoryPath + "/sandbox-profiles"
        if FileManager.default.fileExists(atPath: cwd) { return cwd }
        // .build/<triple>/debug/assay -> checkout root
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0..<5 {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("sandbox-profiles").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return cwd
    }
}
