import Foundation
import Glibc

/// A progress bar on stderr with rate and ETA, drawn only on a terminal and at most ten times a
/// second (a redirected stderr gets nothing but the final summary). Thread-safe.
final class ProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private let label: String
    private let tty = isatty(2) == 1
    private let start = Date()
    private var lastDraw = Date.distantPast

    init(label: String = "") { self.label = label.isEmpty ? "" : label + " " }

    /// - Parameter note: shown after the ETA (e.g. `pass 12`).
    func draw(_ done: Int, of total: Int, note: String = "") {
        guard tty else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        if now.timeIntervalSince(lastDraw) < 0.1 && done < total { return }
        lastDraw = now
        let rate = Double(done) / max(now.timeIntervalSince(start), 1e-9)
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let width = 30
        let filled = Int(Double(width) * Double(done) / Double(max(total, 1)))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let text = String(format: "\r%@[%@] %d/%d  %.1f/s  ETA %d:%02d", label, bar, done, total, rate, Int(eta) / 60, Int(eta) % 60)
        FileHandle.standardError.write(Data((text + (note.isEmpty ? "" : "  " + note)).utf8))
    }

    func finish() {
        if tty { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
