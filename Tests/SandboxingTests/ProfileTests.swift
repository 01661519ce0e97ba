import Foundation
import Sandboxing
import Testing

@Suite struct ProfileTests {
    @Test func everyProfileInTheRepositoryLoadsAndValidates() throws {
        let catalog = try ProfileCatalog(directory: TestSupport.profilesDirectory)
        let files = try FileManager.default.contentsOfDirectory(atPath: TestSupport.profilesDirectory).filter { $0.hasSuffix(".json") }
        #expect(catalog.profiles.count == files.count)
        #expect(catalog.profiles["python3"] != nil)
        #expect(catalog.profiles["cpp"]?.compile != nil)
        for profile in catalog.profiles.values {
            try profile.validate()
            #expect(profile.run.argv.first?.hasPrefix("/") == true, "profile \(profile.name) must use an absolute interpreter path")
        }
    }

    @Test func unknownProfileErrorNamesTheKnownOnes() throws {
        let catalog = try ProfileCatalog(directory: TestSupport.profilesDirectory)
        #expect {
            try catalog.profile(named: "cobol")
        } throws: { error in
            let e = error as! SandboxError
            return e.code == .invalidConfiguration && e.message.contains("cobol") && e.message.contains("python3")
        }
    }

    @Test func brokenProfileFileIsAnErrorNamingTheFile() throws {
        let dir = NSTemporaryDirectory() + "assay-profiles-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("{\"name\": \"x\"".utf8).write(to: URL(fileURLWithPath: dir + "/broken.json"))
        #expect {
            _ = try ProfileCatalog(directory: dir)
        } throws: { error in
            (error as! SandboxError).message.contains("broken.json")
        }
    }

    @Test func relativeInterpreterPathIsRejected() throws {
        let profile = SandboxProfile(name: "bad", description: "", sourceFile: "main.py",
                                     run: .init(argv: ["python3", "/app/main.py"]))
        #expect(throws: SandboxError.self) { try profile.validate() }
    }

    @Test func sourceFileMustBeAPlainName() throws {
        let profile = SandboxProfile(name: "bad", description: "", sourceFile: "../etc/passwd",
                                     run: .init(argv: ["/usr/bin/python3"]))
        #expect(throws: SandboxError.self) { try profile.validate() }
    }

    @Test(arguments: [
        Limits(cpuTimeSeconds: 0),
        Limits(cpuTimeSeconds: 1e9),
        Limits(memoryBytes: 1 << 10),
        Limits(maxProcesses: 0),
        Limits(maxOpenFiles: 1),
        Limits(workDirBytes: 0),
    ])
    func absurdLimitsAreRejectedWithTheirName(limits: Limits) throws {
        #expect(throws: SandboxError.self) { try limits.validate() }
    }

    @Test func limitsRoundTripThroughJSONWithUnitsInKeys() throws {
        let limits = Limits(cpuTimeSeconds: 1.5, memoryBytes: 128 << 20, maxStderrBytes: 64 << 10)
        let json = try JSONEncoder().encode(limits)
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains("\"memoryMiB\":128"))
        #expect(text.contains("\"cpuTimeSeconds\":1.5"))
        #expect(try JSONDecoder().decode(Limits.self, from: json) == limits)
    }

    @Test func missingLimitKeysTakeDefaults() throws {
        let limits = try JSONDecoder().decode(Limits.self, from: Data("{\"cpuTimeSeconds\": 3}".utf8))
        #expect(limits.cpuTimeSeconds == 3)
        #expect(limits.wallTimeSeconds == 7)
        #expect(limits.memoryBytes == Limits().memoryBytes)
    }
}
