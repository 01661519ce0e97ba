import HostFiles
import Foundation
import Glibc
import Sandboxing
import Synchronization
import Testing

/// Shared state and host-side checks for the hostile-program suite (`testdata/hostile/`).
///
/// The suite has a sandbox of its own, with a uid range and a state directory no other test
/// uses, so its host checks ("no process of a box uid is left", "no box tmpfs is still mounted")
/// cannot be confused by other suites running in parallel in the same test process, or by
/// another checkout's tests on the same machine (their boxes use uids from 2000000).
enum Hostile {
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let programDirectory = repositoryRoot + "/testdata/hostile"

    static let isRoot = geteuid() == 0

    /// Lowest uid of this suite's boxes (its sandbox claims a 4096-uid block at or above it).
    static let uidBase: uid_t = 2_900_000
    /// Box mount points live under here (one directory per Sandbox instance).
    static let stateDirectory = "/run/assay-hostile"

    static let sandbox: Sandbox = {
        do {
            return try Sandbox(configuration: .init(stateDirectory: stateDirectory, uidBase: uidBase))
        } catch {
            fatalError("cannot create the sandbox for the hostile suite: \(error)")
        }
    }()

    static let catalog: ProfileCatalog = {
        do { return try ProfileCatalog(directory: repositoryRoot + "/sandbox-profiles") } catch { fatalError("\(error)") }
    }()

    static let python: SandboxProfile = { try! catalog.profile(named: "python3") }()
    static let cpp: SandboxProfile = { try! catalog.profile(named: "cpp") }()

    /// The text of `testdata/hostile/<name>`.
    static func program(_ name: String) throws -> String {
        try String(contentsOfFile: programDirectory + "/" + name, encoding: .utf8)
    }

    /// Small limits for hostile programs: 1 s CPU, 128 MiB, 32 processes, unless told otherwise.
    static func limits(
        cpu: Double = 1, wall: Double? = nil, memoryMiB: Int = 128, processes: Int = 32,
        fileSize: Int = 16 << 20, stdout: Int = 1 << 20, stderr: Int = 64 << 10,
        workDir: Int = 64 << 20, inodes: Int = 4096
    ) -> Limits {
        Limits(cpuTimeSeconds: cpu, wallTimeSeconds: wall, memoryBytes: memoryMiB << 20, maxProcesses: processes,
               maxFileSizeBytes: fileSize, maxStdoutBytes: stdout, maxStderrBytes: stderr,
               workDirBytes: workDir, workDirInodes: inodes)
    }

    /// A host process (`sleep 8`) running as `uid`, outside any sandbox: a canary for signals
    /// sent from inside a box that has the same uid. The caller terminates it.
    static func startCanary(uid: UInt32) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        p.arguments = ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "/usr/bin/sleep", "8"]
        try p.run()
        usleep(100_000)
        return p
    }

    /// How the compiler's own run ends for each compiler bomb (the program's verdict is CE).
    static let expectedCompilerBombVerdict: [String: Verdict] = [
        "compile_read_urandom.cpp": .memoryLimitExceeded,
        "compile_macro_bomb.cpp": .memoryLimitExceeded,
    ]

    /// Every mount point a box may have (read_host_files.py lists the box's mountinfo).
    static let boxMountPoints: Set<String> = [
        "/", "/usr", "/etc", "/etc/alternatives", "/dev/null", "/dev/zero", "/dev/full", "/dev/random",
        "/dev", "/dev/urandom", "/work", "/tmp", "/dev/shm", "/proc", "/.assay-init",
    ]

    /// What write_outside.py prints: every write outside /work and /tmp refused, nothing written
    /// there runs. Existing root-owned files answer EACCES (the permission check comes first),
    /// new names on the read-only mounts EROFS.
    static let expectedWriteOutside = """
        /app/main.py EACCES
        /app/new.txt EROFS
        /usr/bin/python3 EACCES
        /usr/evil EROFS
        /etc/passwd EACCES
        /etc/evil EROFS
        /evil EROFS
        /dev/evil EROFS
        /dev/null.evil EROFS
        /proc/sys/kernel/hostname EACCES
        /proc/sysrq-trigger ENOENT
        /sys/evil ENOENT
        /lib/evil EROFS
        /.assay-init EACCES
        unlink /app/main.py EROFS
        rename /app/main.py EXDEV
        chmod /app/main.py EROFS
        mkdir /usr/x EROFS
        sethostname EPERM
        exec /work EACCES
        exec /tmp EACCES
        exec /dev/shm EACCES
        work writable

        """

    /// A profile whose "compiler" is a shell command (to plant odd artefacts), decoded from JSON
    /// as a profile file would be.
    static func artefactTrickProfile(_ script: String) throws -> SandboxProfile {
        let escaped = script.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let json = """
            {"name": "artefact-trick", "description": "a compile step that plants a non-file artefact",
             "sourceFile": "main.cpp",
             "compile": {"command": {"argv": ["/bin/sh", "-c", "\(escaped)"]}, "artifact": "main",
                         "limits": {"cpuTimeSeconds": 1, "memoryMiB": 64, "maxProcesses": 8}},
             "run": {"argv": ["/app/main"]}}
            """
        return try JSONDecoder().decode(SandboxProfile.self, from: Data(json.utf8))
    }

    /// Runs `testdata/hostile/<name>` with the profile its extension names (.py python3,
    /// .cpp cpp, .sh `/bin/sh /app/<name>`).
    static func run(_ name: String, stdin: String = "", limits: Limits, profile: SandboxProfile? = nil) throws -> RunResult {
        let source = try program(name)
        let input = Array(stdin.utf8)
        if name.hasSuffix(".sh") {
            return try sandbox.run(command: ["/bin/sh", "/app/" + name],
                                   files: [BoxFile(name: name, contents: Array(source.utf8))],
                                   stdin: input, limits: limits)
        }
        let chosen = profile ?? (name.hasSuffix(".py") ? python : cpp)
        return try sandbox.run(source: source, profile: chosen, stdin: input, limits: limits)
    }

    /// A one-line summary for failure messages.
    static func describe(_ r: RunResult) -> Comment {
        let out = r.stdoutText.prefix(600), err = r.stderrText.suffix(600)
        return Comment(rawValue: "verdict \(r.verdict.rawValue) exit \(r.exitCode.map(String.init) ?? "-") signal \(r.signal.map(String.init) ?? "-") clock \(r.timeLimitClock?.rawValue ?? "-") cpu \(Int(r.cpuMilliseconds)) ms wall \(Int(r.wallMilliseconds)) ms mem \(r.memoryBytes >> 20) MiB\nstdout: \(out)\nstderr: \(err)")
    }

    // MARK: - Host inspection
    //
    // The checks fail closed: a read of /proc or mountinfo that fails (other than for a process
    // that has exited meanwhile) records an issue and is reported as a finding, so a check never
    // passes because it could not look.

    /// Records that a host check could not read `path`; returns the finding to report.
    static func unreadable(_ path: String, _ error: (any Error)? = nil) -> String {
        let what = "host check cannot read \(path)" + (error.map { ": \($0)" } ?? "")
        Issue.record(Comment(rawValue: what))
        return what
    }

    /// Host processes whose real, effective or saved uid is one of this suite's box uids.
    static func boxProcesses(excluding excluded: Set<Int32> = [], of sandbox: Sandbox = Hostile.sandbox) -> [String] {
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: "/proc") } catch { return [unreadable("/proc", error)] }
        var found: [String] = []
        for pid in entries where pid.allSatisfy(\.isNumber) && !excluded.contains(Int32(pid) ?? 0) {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else {
                // Gone since the listing: fine. Still there but unreadable: a finding.
                if access("/proc/\(pid)", F_OK) == 0 { found.append(unreadable("/proc/\(pid)/status")) }
                continue
            }
            var name = "?", state = "?"
            var owned = false
            for line in status.split(separator: "\n") {
                if line.hasPrefix("Name:") { name = line.dropFirst(5).trimmingCharacters(in: .whitespaces) }
                if line.hasPrefix("State:") { state = line.dropFirst(6).trimmingCharacters(in: .whitespaces) }
                if line.hasPrefix("Uid:") {
                    let uids = line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().compactMap { UInt32($0) }
                    owned = uids.contains { sandbox.uidRange.contains($0) }
                }
            }
            if owned { found.append("\(pid) \(name) \(state)") }
        }
        return found
    }

    /// Box tmpfs mounts of this suite still mounted in the host's mount namespace. A sandbox's
    /// Python zygote keeps its own root (`zygote-N`) for as long as its sandbox lives, so
    /// that one counts only with `includingZygotes` (ZygoteTests checks it is gone afterwards).
    static func boxMounts(under stateDirectory: String = Hostile.stateDirectory, includingZygotes: Bool = false) -> [String] {
        // Read whole with a read loop: Foundation stops after one read of a file whose size reads
        // 0, and mountinfo runs past 4 KiB while other suites' boxes and zygotes are mounted.
        guard let text = wholeTextFile("/proc/self/mountinfo") else { return [unreadable("/proc/self/mountinfo")] }
        let prefix = stateDirectory + "/"
        var found: [String] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4 && fields[4].hasPrefix(prefix) else { continue }
            if includingZygotes || !(fields[4].split(separator: "/").last?.hasPrefix("zygote-") ?? false) { found.append(String(fields[4])) }
        }
        return found
    }


    /// Names in a host directory (for /dev/shm and /tmp before/after comparisons).
    static func names(in directory: String) -> Set<String> {
        do { return Set(try FileManager.default.contentsOfDirectory(atPath: directory)) } catch { return [unreadable(directory, error)] }
    }
}

/// What a hostile test must leave untouched on the host: sentinel files with secret contents,
/// a TCP listener on 127.0.0.1 and an abstract unix socket in the host's network namespace.
/// `verify()` records a failure for any process of a box uid still alive, any box tmpfs still
/// mounted, any sentinel changed, and any connection that reached a listener.
final class HostWatch {
    let secret: String
    /// Sentinel files outside the sandbox, by path; each holds `secret`.
    let sentinels: [String]
    private var sentinelStats: [String: stat] = [:]
    let tcpPort: UInt16
    let abstractName: String
    private let tcpFD: Int32
    private let unixFD: Int32
    private let sentinelDirectory: String
    /// The sandbox whose boxes must all be gone (its uids, its state directory).
    private let sandbox: Sandbox
    private let stateDirectory: String

    init(sandbox: Sandbox = Hostile.sandbox, stateDirectory: String = Hostile.stateDirectory) throws {
        self.sandbox = sandbox
        self.stateDirectory = stateDirectory
        secret = "assay-hostile-secret-\(UInt64.random(in: 0...UInt64.max))"
        let tag = "assay-hostile-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        sentinelDirectory = "/root/\(tag)"
        try #require(mkdir(sentinelDirectory, 0o700) == 0)
        sentinels = ["\(sentinelDirectory)/sentinel", "/tmp/\(tag)", "/dev/shm/\(tag)"]
        for path in sentinels {
            try #require(FileManager.default.createFile(atPath: path, contents: Data(secret.utf8),
                                                        attributes: [.posixPermissions: 0o644]))
            var st = stat()
            try #require(stat(path, &st) == 0)
            sentinelStats[path] = st
        }

        // TCP listener on 127.0.0.1, never accepted from: the kernel completes any handshake
        // into the backlog, so verify() sees a connection with a non-blocking accept.
        let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(tcp >= 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(tcp, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(tcp, 64) == 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(tcp, $0, &len) }
        }
        let port = UInt16(bigEndian: addr.sin_port)

        // Abstract unix socket: abstract names belong to a network namespace, so a box must
        // not reach one bound in the host's.
        abstractName = tag
        let unix = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(unix >= 0)
        var un = sockaddr_un()
        un.sun_family = sa_family_t(AF_UNIX)
        let nameBytes = [UInt8](tag.utf8)
        withUnsafeMutableBytes(of: &un.sun_path) { raw in
            raw[0] = 0
            for (i, b) in nameBytes.enumerated() { raw[i + 1] = b }
        }
        let unLen = socklen_t(MemoryLayout<sa_family_t>.size + 1 + nameBytes.count)
        let unBound = withUnsafePointer(to: &un) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(unix, $0, unLen) }
        }
        try #require(unBound == 0 && listen(unix, 64) == 0)
        tcpFD = tcp
        unixFD = unix
        tcpPort = port
    }

    /// Connections that reached the listeners since the start (accepting them).
    func connectionsReceived() -> Int {
        var count = 0
        for fd in [tcpFD, unixFD] {
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 { break }
                close(c)
                count += 1
            }
        }
        return count
    }

    /// Records a failure for anything a box left behind or reached on the host.
    func verify(sourceLocation: SourceLocation = #_sourceLocation) {
        let stray = Hostile.boxProcesses(of: sandbox)
        #expect(stray.isEmpty, "processes of box uids outlived their run: \(stray)", sourceLocation: sourceLocation)
        let mounts = Hostile.boxMounts(under: stateDirectory)
        #expect(mounts.isEmpty, "box tmpfs still mounted: \(mounts)", sourceLocation: sourceLocation)
        for path in sentinels {
            let now = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
            #expect(now == secret, "sentinel \(path) changed", sourceLocation: sourceLocation)
            var st = stat()
            let before = sentinelStats[path]!
            let statted = stat(path, &st) == 0
            let sameMode = st.st_mode == before.st_mode && st.st_uid == before.st_uid && st.st_nlink == before.st_nlink
            let sameTime = st.st_mtim.tv_sec == before.st_mtim.tv_sec && st.st_mtim.tv_nsec == before.st_mtim.tv_nsec
            #expect(statted && sameMode && sameTime, "sentinel \(path) metadata changed", sourceLocation: sourceLocation)
        }
        let reached = connectionsReceived()
        #expect(reached == 0, "\(reached) connection(s) reached the host listeners", sourceLocation: sourceLocation)
    }

    deinit {
        close(tcpFD)
        close(unixFD)
        for path in sentinels { unlink(path) }
        rmdir(sentinelDirectory)
    }
}

/// Runs `body` with a fresh host watch and verifies the host afterwards.
func withHostWatch(sandbox: Sandbox = Hostile.sandbox, stateDirectory: String = Hostile.stateDirectory,
                   sourceLocation: SourceLocation = #_sourceLocation, _ body: (HostWatch) throws -> Void) throws {
    let watch = try HostWatch(sandbox: sandbox, stateDirectory: stateDirectory)
    try body(watch)
    watch.verify(sourceLocation: sourceLocation)
}

/// A value shared between threads (background runs, concurrent boxes).
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
    var value: Value { mutex.withLock { $0 } }
}

/// Runs `body` on a new thread; `join()` waits for it and returns its result.
final class Background<Value: Sendable>: Sendable {
    private let result = Shared<Value?>(nil)
    private let done = DispatchSemaphore(value: 0)
    init(_ body: @escaping @Sendable () -> Value) {
        let result = self.result, done = self.done
        Thread {
            let v = body()
            result.withLock { $0 = v }
            done.signal()
        }.start()
    }
    func join() -> Value {
        done.wait()
        return result.value!
    }
}
