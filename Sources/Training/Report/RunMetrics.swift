import Foundation

/// One line of a run's metrics.jsonl: its step and every number on it.
public struct MetricsLine: Sendable, Equatable {
    /// The trainer's step; -1 for the validation before the first step.
    public var step: Int
    /// Every numeric value but `step`; arrays, strings and nulls are left out, so a key a newer trainer adds
    /// (or an older one lacked) is simply there or not.
    public var values: [String: Double]

    public init(step: Int, values: [String: Double]) {
        self.step = step
        self.values = values
    }

    public subscript(key: String) -> Double? { values[key] }

    /// Held-out validation keys: a line with any of them carries a validation.
    static let validationKeys: Set<String> = ["heldout_pass_at_1", "heldout_pass_at_n", "heldout_no_code_rate"]

    public var isValidation: Bool { values.keys.contains { Self.validationKeys.contains($0) } }

    /// A step's training metrics; a validation-only line (before the first step, after the last) has held-out
    /// keys alone.
    public var isTrainingStep: Bool { step >= 0 && values.keys.contains { !$0.hasPrefix("heldout_") } }

    /// Where a validation sits on the step axis: the number of steps whose updates its weights had. The line
    /// before training (step -1) and the one merged into step k's line (validated before k's update) are at
    /// 0 and k; the final line, written after the last step, carries `steps` itself.
    public var validationPosition: Int { max(step, 0) }
}

/// The lines of a run's metrics.jsonl, in file order.
public struct RunMetrics: Sendable, Equatable {
    public var lines: [MetricsLine]

    public init(lines: [MetricsLine]) { self.lines = lines }

    public var trainingSteps: [MetricsLine] { lines.filter(\.isTrainingStep) }
    public var validations: [MetricsLine] { lines.filter(\.isValidation) }

    /// Reads `directory/metrics.jsonl`; a missing file means the directory is not a run directory.
    public static func read(directory: URL) throws -> RunMetrics {
        let file = directory.appendingPathComponent("metrics.jsonl")
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw RunReportError.notARunDirectory(directory.path)
        }
        return try parse(String(decoding: data, as: UTF8.self), file: file.path)
    }

    /// Parses the text of a metrics.jsonl; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws -> RunMetrics {
        let rows = text.split(separator: "\n", omittingEmptySubsequences: false)
        var lines: [MetricsLine] = []
        for (index, row) in rows.enumerated() where !row.allSatisfy(\.isWhitespace) {
            do {
                lines.append(try parseLine(row))
            } catch let reason as MalformedLine {
                // The trainer writes each line in one write, so an unfinished last line (no newline yet) is a
                // line being written while the report is made, not a broken file.
                if index == rows.count - 1 && !text.hasSuffix("\n") { continue }
                throw RunReportError.malformedLine(file: file, line: index + 1, reason: reason.text)
            }
        }
        return RunMetrics(lines: lines)
    }

    struct MalformedLine: Error { var text: String }

    static func parseLine(_ row: Substring) throws -> MetricsLine {
        guard let object = try? JSONSerialization.jsonObject(with: Data(row.utf8)) as? [String: Any] else {
            throw MalformedLine(text: "not a JSON object")
        }
        guard let stepValue = number(object["step"]), let step = Int(exactly: stepValue) else {
            throw MalformedLine(text: object["step"] == nil ? "no \"step\"" : "\"step\" is not an integer")
        }
        var values: [String: Double] = [:]
        for (key, value) in object where key != "step" {
            if let n = number(value) { values[key] = n }
        }
        return MetricsLine(step: step, values: values)
    }

    /// A JSON number as a Double (Foundation hands them over as NSNumber; JSON has no NaN or infinity).
    static func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }
}
