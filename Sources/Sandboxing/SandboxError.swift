import Glibc

/// A failure of the sandbox itself, never of the program: an RL run must be able to tell
/// "the sandbox broke" from "the program is wrong", so these are thrown, not returned as verdicts.
public struct SandboxError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure (an extensible set, as in swift-subprocess's `SubprocessError.Code`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The host refuses an isolation layer (namespaces, cgroups, seccomp, privileges).
        public static let isolationUnavailable = Code("isolationUnavailable")
        /// A profile or limit the caller gave is invalid.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// Preparing the box, cgroups or pipes on the host failed.
        public static let hostSetupFailed = Code("hostSetupFailed")
        /// The child failed while entering the sandbox, before the program started.
        public static let spawnFailed = Code("spawnFailed")
        /// Supervising or reaping the run failed.
        public static let supervisionFailed = Code("supervisionFailed")
        /// Reading an artefact (e.g. a compiled binary) back from the box failed.
        public static let artefactUnavailable = Code("artefactUnavailable")
    }

    public var code: Code
    /// The child's setup stage that failed, for ``Code/spawnFailed``.
    public var stage: String?
    /// The underlying errno, if any.
    public var errno: Int32?
    /// What went wrong and, where it is known, what to do about it.
    public var message: String

    public init(_ code: Code, _ message: String, stage: String? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.stage = stage
        self.errno = errno
    }

    public var description: String {
        var text = "sandbox error (\(code)): \(message)"
        if let stage { text += " [stage: \(stage)]" }
        if let errno { text += " [errno \(errno): \(String(cString: strerror(errno)))]" }
        return text
    }
}
