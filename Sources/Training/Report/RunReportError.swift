/// Why a report cannot be made, with what to do about it.
public enum RunReportError: Error, CustomStringConvertible, Equatable {
    /// The directory has no metrics.jsonl.
    case notARunDirectory(String)
    /// A line of metrics.jsonl (1-based) that is not a metrics line.
    case malformedLine(file: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case .notARunDirectory(let path):
            "\(path) is not a run directory: it has no metrics.jsonl (give the --run-dir of an `assay train` run)"
        case .malformedLine(let file, let line, let reason):
            "\(file) line \(line): \(reason); every line must be a JSON object with an integer \"step\""
        }
    }
}
