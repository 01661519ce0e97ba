/// This process's memory as the kernel counts it (`/proc/self/status`), for the checks that the
/// host side stays bounded: a parent spawning many boxes, a daemon serving many requests.
public enum ProcessMemory {
    /// The resident set now (`VmRSS`), in bytes; 0 when unreadable.
    public static var residentBytes: Int { statusField("VmRSS") }

    /// The peak resident set since the process started (`VmHWM`), in bytes; 0 when unreadable.
    public static var peakResidentBytes: Int { statusField("VmHWM") }

    private static func statusField(_ key: String) -> Int {
        guard let text = FileOps.read("/proc/self/status") else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
        }
        return 0
    }
}
