import Foundation

/// Everything a run writes, and all it needs to continue:
///
///     config.json              the resolved recipe
///     metrics.jsonl            one line per step
///     samples.jsonl            one line per sample (prompt, response, reward, reason)
///     checkpoints/step-N/      weights (config.json, model.safetensors), optimizer.safetensors,
///                              state.json (step, policy version, the batch already drawn for step N+1)
///     checkpoints/latest       the name of the newest complete checkpoint
public struct RunDirectory: Sendable {
    public let url: URL

    public init(path: String) { url = URL(fileURLWithPath: path) }

    var configURL: URL { url.appendingPathComponent("config.json") }
    var metricsURL: URL { url.appendingPathComponent("metrics.jsonl") }
    var samplesURL: URL { url.appendingPathComponent("samples.jsonl") }
    var checkpointsURL: URL { url.appendingPathComponent("checkpoints") }

    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return e
    }

    /// Starts a new run: refuses a directory that already holds a run (nothing is overwritten).
    public func create(recipe: TrainingRecipe) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: configURL.path) {
            throw TrainingError.runDirectory("\(url.path) already holds a run; pass --resume to continue it, or choose another --run-dir")
        }
        do {
            try fm.createDirectory(at: checkpointsURL, withIntermediateDirectories: true)
            try Self.encoder().encode(recipe).write(to: configURL, options: .atomic)
        } catch {
            throw TrainingError.runDirectory("cannot create \(url.path): \(error.localizedDescription)")
        }
    }

    /// The recipe of an existing run; `--resume` refuses a recipe that differs from it.
    public func storedRecipe() throws -> TrainingRecipe {
        guard let data = FileManager.default.contents(atPath: configURL.path) else {
            throw TrainingError.runDirectory("\(url.path) holds no run (no config.json) to resume")
        }
        do { return try JSONDecoder().decode(TrainingRecipe.self, from: data) } catch {
            throw TrainingError.runDirectory("\(configURL.path) is unreadable: \(error)")
        }
    }

    /// Appends JSON lines to `file` in one write.
    func append(_ lines: [[String: Any]], to file: URL) throws {
        var data = Data()
        for line in lines {
            data.append(try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes]))
            data.append(0x0A)
        }
        if let handle = try? FileHandle(forWritingTo: file) {
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: data)
        } else {
            try data.write(to: file)
        }
    }

    public func appendMetrics(_ line: [String: Any]) throws { try append([line], to: metricsURL) }
    /// A step's samples, in one write.
    public func appendSamples(_ lines: [[String: Any]]) throws { try append(lines, to: samplesURL) }

    /// What a checkpoint holds besides the weights and the optimizer.
    public struct State: Codable, Sendable {
        public var step: Int
        public var policyVersion: Int
        /// The batch one-off pipelining already drew for `step` (nil in sync mode).
        public var pending: RolloutBatch?
    }

    func checkpointURL(step: Int) -> URL { checkpointsURL.appendingPathComponent(String(format: "step-%06d", step)) }

    /// Writes a checkpoint completely, then points `latest` at it (a crash mid-write leaves the older one in force).
    public func saveCheckpoint(state: State, save: (URL) throws -> Void) throws {
        let dir = checkpointURL(step: state.step)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try save(dir)
        try Self.encoder().encode(state).write(to: dir.appendingPathComponent("state.json"), options: .atomic)
        try Data(dir.lastPathComponent.utf8).write(to: checkpointsURL.appendingPathComponent("latest"), options: .atomic)
    }

    /// The newest complete checkpoint, or nil when the run has none yet.
    public func latestCheckpoint() throws -> (URL, State)? {
        guard let name = try? String(contentsOf: checkpointsURL.appendingPathComponent("latest"), encoding: .utf8) else { return nil }
        let dir = checkpointsURL.appendingPathComponent(name.trimmingCharacters(in: .whitespacesAndNewlines))
        guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent("state.json").path) else {
            throw TrainingError.runDirectory("\(dir.path) has no state.json")
        }
        return (dir, try JSONDecoder().decode(State.self, from: data))
    }

    /// Drops metric and sample lines of steps after `step` (written by a run that died before its next checkpoint).
    public func truncateLogs(after step: Int) throws {
        for file in [metricsURL, samplesURL] {
            guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
            let kept = text.split(separator: "\n").filter { line in
                guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let s = o["step"] as? Int else { return false }
                return s <= step
            }
            try (kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).write(to: file, atomically: true, encoding: .utf8)
        }
    }
}
