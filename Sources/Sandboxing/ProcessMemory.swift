/// A process's memory as the kernel counts it (`/proc/<pid>/status`), for the checks that the
/// host side stays bounded: a parent spawning many boxes, a daemon serving many requests.
public enum ProcessMemory {
    /// This process's resident set now (`VmRSS`), in bytes; 0 when unreadable.
    public static var residentBytes: Int { statusField("VmRSS", of: "self") }

    /// This process's peak resident set since it started (`VmHWM`), in bytes; 0 when unreadable.
    public static var peakResidentBytes: Int { statusField("VmHWM", of: "self") }

    /// The resident set of process `pid` now, in bytes; 0 when unreadable (gone, or not ours to read).
    public static func residentBytes(pid: Int32) -> Int { statusField("VmRSS", of: "\(pid)") }

    /// The peak resident set of process `pid`, in bytes; 0 when unreadable.
    public static func peakResidentBytes(pid: Int32) -> Int { statusField("VmHWM", of: "\(pid)") }

    private static func statusField(_ key: String, of process: String) -> Int {
        guard let text = FileOps.read("/proc/\(process)/status") else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
        }
        return 0
    }
}
