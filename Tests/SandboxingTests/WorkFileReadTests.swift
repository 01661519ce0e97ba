import Foundation
import Glibc
@testable import Sandboxing
import Testing

/// Reading a file a program left in /work: what the program left (nothing, a symlink, a
/// directory, too much) is the program's result; what the host could not do is a sandbox error,
/// never a verdict against the program.
struct WorkFileReadTests {
    /// The code of the error `body` threw; nil when it threw none.
    static func failure(_ body: () throws(SandboxError) -> [UInt8]) -> SandboxError.Code? {
        do { _ = try body(); return nil } catch { return error.code }
    }

    @Test func openErrorsAreTheProgramsOnlyWhenTheyDescribeWhatItLeft() {
        for e in [ENOENT, ELOOP, EXDEV, EINVAL, ENOTDIR, EISDIR, ENXIO, ENAMETOOLONG] {
            #expect(Box.isLeftByTheProgram(openError: e), "errno \(e)")
        }
        for e in [EMFILE, ENFILE, ENOMEM, EAGAIN, EINTR, EIO, EACCES] {
            #expect(!Box.isLeftByTheProgram(openError: e), "errno \(e)")
        }
    }

    @Test func whatTheProgramLeftIsUnavailableAndAHostFailureIsASandboxError() throws {
        let root = NSTemporaryDirectory() + "assay-workfile-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/work/dir", withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: root + "/work/ok.json"))
        try Data(repeating: 7, count: 100).write(to: URL(fileURLWithPath: root + "/work/big"))
        #expect(symlink("/etc/passwd", root + "/work/link") == 0)
        let box = Box(root: root, uid: 0)
        #expect(try box.readWorkFile("ok.json", limit: 10) == Array("{}".utf8))
        for name in ["missing", "link", "dir", "big", String(repeating: "n", count: 300)] {
            #expect(Self.failure { () throws(SandboxError) in try box.readWorkFile(name, limit: 10) } == .artefactUnavailable, "\(name)")
        }
        // No /work at all: the program cannot do that to its box, so it is the host's failure.
        let broken = Box(root: root + "/nonexistent", uid: 0)
        #expect(Self.failure { () throws(SandboxError) in try broken.readWorkFile("ok.json", limit: 10) } == .hostSetupFailed)
    }
}
