import Foundation
import GradingServer
import Hummingbird
import HummingbirdTesting
import Rewards
import Testing

/// `/run_code`'s `files` and `fetch_files` and its compile time-outs, in the real sandbox.
@Suite("run_code files and compile time-outs", .enabled(if: TestEnv.isRoot && TestEnv.sandboxBackend != nil), .onServerThreads)
struct RunCodeFilesTests {
    static func base64(_ s: String) -> JSONValue { .string(Data(s.utf8).base64EncodedString()) }

    func post(_ body: JSONValue) async throws -> JSONValue {
        try await buildApplication(TestEnv.config(TestEnv.sandboxBackend!)).test(.router) { client in
            let r = try await client.post("/run_code", body.jsonText)
            #expect(r.status == .ok, "\(r.text)")
            return try r.json
        }
    }

    /// Sent files are in the program's work dir (its current directory) and its own to change;
    /// fetched files come back base64 whatever the run's outcome; what is missing, a symlink
    /// (to a file the program could read, or one it could not) or a directory is left out.
    @Test func filesInAndFetchedFilesOut() async throws {
        let code = """
            import os, sys
            data = open("in.txt").read()
            open("out.txt", "w").write(data.upper())
            open("in.txt", "a").write("!")
            os.symlink("out.txt", "link.txt")
            os.symlink("/etc/passwd", "passwd")
            os.mkdir("dir")
            print(os.getcwd(), sorted(os.listdir(".")))
            sys.exit(int(sys.stdin.read() or 0))
            """
        let fetch: JSONValue = ["out.txt", "in.txt", "link.txt", "passwd", "dir", "missing.txt"]
        for exit in ["0", "3"] {
            let r = try await post(["code": .string(code), "language": "python", "stdin": .string(exit),
                                    "files": ["in.txt": Self.base64("hello"), "unused.bin": Self.base64("\u{0}\u{1}")], "fetch_files": fetch])
            #expect(r["status"] == (exit == "0" ? "Success" : "Failed"), "\(r.jsonText)")
            #expect(r["run_result"]?["stdout"] == "/work ['dir', 'in.txt', 'link.txt', 'out.txt', 'passwd', 'unused.bin']\n", "\(r.jsonText)")
            #expect(r["files"] == ["in.txt": Self.base64("hello!"), "out.txt": Self.base64("HELLO")], "\(r.jsonText)")
        }
    }

    /// Fetched files share a cap (16 MiB in all): one that does not fit in what is left is left
    /// out, and a later one that fits still comes back.
    @Test func fetchCapLeavesOutWhatDoesNotFit() async throws {
        let code = "for n in 'ab': open(n, 'wb').write(b'x' * (10 << 20))\nopen('small', 'w').write('ok')"
        let r = try await post(["code": .string(code), "language": "python", "memory_limit_MB": 512, "fetch_files": ["a", "b", "small"]])
        #expect(r["status"] == "Success", "\(r["run_result"]?.jsonText ?? "")")
        #expect(r["files"]?.keys == ["a", "small"])
        let base64Length: Int = ((10 << 20) + 2) / 3 * 4
        #expect(r["files"]?["a"]?.stringValue?.count == base64Length)
        #expect(r["files"]?["small"] == Self.base64("ok"))
    }

    /// A compiler stopped by compile_timeout is a `TimeLimitExceeded` compile_result with a null
    /// return code and no run (verl scores it as a compile failure, −4), and the same source
    /// with time enough compiles: a time-out is not cached as the source's compile result.
    @Test func compileTimeoutIsReportedInCompileResultAndNotCached() async throws {
        let source = "#include <bits/stdc++.h>\nint main(){std::map<int,std::string> m; m[1]=\"ok \(UUID().uuidString)\"; std::cout<<m[1].substr(0,2)<<std::endl;}"
        let slow = try await post(["code": .string(source), "language": "cpp", "compile_timeout": 0.05])
        #expect(slow["status"] == "Failed", "\(slow.jsonText)")
        #expect(slow["compile_result"]?["status"] == "TimeLimitExceeded", "\(slow.jsonText)")
        #expect(slow["compile_result"]?["return_code"] == .null)
        #expect(slow["run_result"] == .null)
        let enough = try await post(["code": .string(source), "language": "cpp", "compile_timeout": 60])
        #expect(enough["status"] == "Success", "\(enough.jsonText)")
        #expect(enough["compile_result"]?["status"] == "Finished")
        #expect(enough["run_result"]?["stdout"] == "ok\n")
    }
}
