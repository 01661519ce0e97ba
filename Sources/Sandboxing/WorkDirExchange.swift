import Glibc

/// Files a run finds in its `/work` (its current directory) and files read back from there
/// after it: SandboxFusion's `files` and `fetch_files`. Every name is a plain file name in
/// `/work`: no directories, no `..`. Files are written by the host before the program starts,
/// owned by the run's uid (the program may change or delete them), and read back without
/// following symlinks, regular files only, whatever the run's verdict.
public struct WorkDirExchange: Sendable {
    /// Written into `/work` before the run.
    public var files: [BoxFile]
    /// Read back from `/work` after the run; a name that is missing, a symlink, not a regular
    /// file or larger than what is left of `fetchLimitBytes` is left out of the result.
    public var fetch: [String]
    /// All fetched files together, bytes.
    public var fetchLimitBytes: Int

    public init(files: [BoxFile] = [], fetch: [String] = [], fetchLimitBytes: Int = 16 << 20) {
        self.files = files
        self.fetch = fetch
        self.fetchLimitBytes = fetchLimitBytes
    }

    /// True for a name the exchange accepts: a plain file name, no `/`, not `.` or `..`.
    public static func isAcceptedName(_ name: String) -> Bool { SandboxProfile.isPlainFileName(name) }

    func validate() throws(SandboxError) {
        for name in files.map(\.name) + fetch where !Self.isAcceptedName(name) {
            throw SandboxError(.invalidConfiguration, "work dir file '\(name)' must be a plain file name in /work")
        }
    }
}

extension Sandbox {
    /// Runs a prepared program once with `exchange.files` in its `/work`, then reads
    /// `exchange.fetch` back. A program that did not compile runs nothing and fetches nothing.
    public func run(_ program: PreparedProgram, stdin: [UInt8] = [], limits: Limits? = nil,
                    exchange: WorkDirExchange) throws(SandboxError) -> (result: RunResult, fetched: [String: [UInt8]]) {
        if let failure = program.compileFailure { return (failure, [:]) }
        try exchange.validate()
        let execution = try execute(
            argv: program.profile.run.argv, environment: environment(for: program.profile), files: program.files,
            stdin: stdin, limits: limits ?? program.profile.limits, seccomp: program.profile.seccomp, collect: nil,
            outOfMemoryMarkers: program.profile.outOfMemoryMarkers, exchange: exchange)
        return (execution.result, execution.fetched)
    }
}

extension Box {
    /// Writes `files` into /work, owned by the run's uid and writable by it.
    func placeWorkFiles(_ files: [BoxFile]) throws(SandboxError) {
        for file in files {
            let path = root + "/work/" + file.name
            let rc = FileOps.create(path, contents: file.contents, mode: 0o644)
            if rc != 0 { throw SandboxError(.hostSetupFailed, "preparing the box: work/\(file.name)", errno: rc) }
            if lchown(path, uid, uid) < 0 { throw SandboxError(.hostSetupFailed, "preparing the box: chown work/\(file.name)", errno: errno) }
        }
    }

    /// Reads `names` from /work after the run within `limit` bytes in all; what the program left
    /// unreadable (missing, a symlink, not a regular file, over what is left of the limit) is left
    /// out. A file the host could not read is a sandbox error.
    func fetchWorkFiles(_ names: [String], limit: Int) throws(SandboxError) -> [String: [UInt8]] {
        var fetched: [String: [UInt8]] = [:]
        var left = limit
        for name in names where fetched[name] == nil {
            let bytes: [UInt8]
            do { bytes = try readWorkFile(name, limit: left) } catch where error.code == .artefactUnavailable { continue }
            fetched[name] = bytes
            left -= bytes.count
        }
        return fetched
    }
}
