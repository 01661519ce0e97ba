/// The limits a problem file or a client may ask for, checked where the value is read (native
/// problems, the daemon's grading options and `/run_code`), so that a value out of range is the
/// sender's mistake, refused with the range in the message, and never a sandbox error later.
public enum LimitRanges {
    /// CPU seconds per graded test.
    public static let testSeconds: ClosedRange<Double> = 0.01...60
    /// Memory of one box, MiB.
    public static let memoryMiB: ClosedRange<Double> = 16...65536
    /// `/run_code`'s `compile_timeout` and `run_timeout` (wall and CPU), seconds.
    public static let runSeconds: ClosedRange<Double> = 0.01...300

    /// Nil when `value` lies in `range` (NaN and infinities never do); otherwise what to send
    /// instead, for an error that names the field: "must be from 0.01 to 60 seconds, got 1e+99".
    public static func violation(_ value: Double, _ range: ClosedRange<Double>, _ unit: String) -> String? {
        guard !range.contains(value) else { return nil }
        return "must be from \(text(range.lowerBound)) to \(text(range.upperBound)) \(unit), got \(text(value))"
    }

    /// A number as JSON shows it (integers without a fraction, Python's NaN and Infinity).
    static func text(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "Infinity" : "-Infinity" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int(v)) }
        return "\(v)"
    }
}
