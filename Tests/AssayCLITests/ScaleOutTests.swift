import Foundation
import Glibc
import GradingServer
import Rewards
import Testing

extension ServeDaemonTests {
    /// Two `assay serve` daemons behind nginx on loopback, as the README's scale-out section sets
    /// them up: stateless requests spread over both, durable jobs on the one that stores them.
    /// Skipped without nginx (scripts/install-deps.sh installs it), except under CI=true.
    @Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx") || ProcessInfo.processInfo.environment["CI"] == "true",
                    "nginx is not installed (scripts/install-deps.sh installs it)"))
    struct ScaleOutTests {
        /// The README's configuration, with this test's ports and a private prefix.
        static func nginxConfiguration(dir: String, port: Int, daemons: [Int]) -> String {
            """
            worker_processes 1;
            daemon off;
            pid \(dir)/nginx.pid;
            error_log \(dir)/nginx-error.log;
            events { worker_connections 1024; }
            http {
                access_log off;
                client_body_temp_path \(dir)/body; proxy_temp_path \(dir)/proxy;
                fastcgi_temp_path \(dir)/fastcgi; uwsgi_temp_path \(dir)/uwsgi; scgi_temp_path \(dir)/scgi;
                upstream assay {
                    least_conn;
                    \(daemons.map { "server 127.0.0.1:\($0) max_fails=0;" }.joined(separator: "\n        "))
                    keepalive 64;
                    keepalive_timeout 30s;
                }
                upstream assay_jobs { server 127.0.0.1:\(daemons[0]); }
                server {
                    listen 127.0.0.1:\(port);
                    client_max_body_size 16m;
                    proxy_http_version 1.1;
                    proxy_set_header Connection "";
                    proxy_read_timeout 600s;
                    location /v1/jobs { proxy_pass http://assay_jobs; }
                    location / { proxy_pass http://assay; }
                }
            }
            """
        }

        @Test func twoDaemonsBehindNginxAnswerEveryRequest() throws {
            let dir = try HostLeftovers.temporaryDirectory("assay-scale-out")
            defer { HostLeftovers.removeTemporaryDirectory(dir) }
            let ports = [try ServeProcess.freePort(), try ServeProcess.freePort()]
            var daemons: [Process] = []
            defer { for d in daemons where d.isRunning { kill(d.processIdentifier, SIGKILL); d.waitUntilExit() } }
            for (i, port) in ports.enumerated() {
                daemons.append(try ServeProcess.start(port: port, database: dir + "/jobs-\(i).sqlite", stateDirectory: dir + "/state-\(i)"))
            }
            let front = try ServeProcess.freePort()
            try Self.nginxConfiguration(dir: dir, port: front, daemons: ports).write(toFile: dir + "/nginx.conf", atomically: true, encoding: .utf8)
            let nginx = Process()
            nginx.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
            nginx.arguments = ["-c", dir + "/nginx.conf", "-p", dir]
            nginx.standardError = FileHandle.nullDevice
            try nginx.run()
            defer { if nginx.isRunning { kill(nginx.processIdentifier, SIGQUIT); nginx.waitUntilExit() } }
            let up = HostLeftovers.eventually(within: 20) { (try? LoopbackHTTPConnection(port: front).get("/healthz"))?.0 == 200 }
            try #require(up, "nginx did not come up: \((try? String(contentsOfFile: dir + "/nginx-error.log", encoding: .utf8)) ?? "")")

            // verl's pattern: one /run_code per test case, many at once (max_concurrent).
            let count = 32
            let answers = ParallelMap.run(Array(0..<count), jobs: 16) { i -> String in
                let body = Array(#"{"code": "print(\#(i) * 2)", "language": "python", "run_timeout": 10}"#.utf8)
                guard let (status, answer) = try? LoopbackHTTPConnection(port: front).post("/run_code", body: body) else { return "no answer" }
                return "\(status) " + String(decoding: answer, as: UTF8.self)
            }
            for (i, answer) in answers.enumerated() {
                #expect(answer.hasPrefix("200 ") && answer.contains(#""stdout": "\#(i * 2)\n""#), "request \(i): \(answer.prefix(300))")
            }
            let served = try ports.map { port -> Int in
                let (_, text) = try LoopbackHTTPConnection(port: port).get("/metrics")
                return String(decoding: text, as: UTF8.self).split(separator: "\n")
                    .filter { $0.hasPrefix("assay_run_code_total{") }
                    .compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }.reduce(0, +)
            }
            #expect(served.reduce(0, +) == count && served.allSatisfy { $0 > 0 }, "runs per daemon: \(served)")

            // A job is stored by one daemon, so its id is asked of that one (nginx routes /v1/jobs there).
            let job = #"{"items": [{"problem": {"tests": [{"stdin": "3\n", "stdout": "6\n"}]}, "code": "print(int(input()) * 2)"}]}"#
            let (status, created) = try LoopbackHTTPConnection(port: front).post("/v1/jobs", body: Array(job.utf8))
            try #require(status == 202, "POST /v1/jobs: \(status) \(String(decoding: created, as: UTF8.self))")
            let id = try #require(try JSONValue(parsing: created[...])["id"]?.stringValue)
            var done: JSONValue = .null
            _ = HostLeftovers.eventually(within: 60) {
                done = (try? ServeProcess.job(front, id)) ?? .null
                return done["status"] == "done"
            }
            #expect(done["results"]?.arrayValue?.first?["reward"] == 1, "\(done.jsonText.prefix(400))")

            // OpenRLHF's list of URLs: one sample per request, so the other daemons get empty lists.
            for port in ports {
                let (status, answer) = try LoopbackHTTPConnection(port: port).post("/get_reward", body: Array(#"{"query": [], "prompts": [], "labels": []}"#.utf8))
                #expect(status == 200 && String(decoding: answer, as: UTF8.self).contains(#""rewards": []"#), "\(status) \(String(decoding: answer, as: UTF8.self))")
            }
        }
    }
}
