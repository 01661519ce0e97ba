import Foundation
import Glibc

/// Latency samples in milliseconds, summarised by percentiles (the machine is shared and
/// noisy: report medians and ratios, not single runs).
struct Samples {
    private(set) var values: [Double] = []

    mutating func add(_ ms: Double) { values.append(ms) }

    func percentile(_ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let rank = p / 100 * Double(sorted.count - 1)
        let lo = Int(rank.rounded(.down)), hi = Int(rank.rounded(.up))
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - Double(lo))
    }

    var median: Double { percentile(50) }
}

/// Milliseconds since an arbitrary start, monotonic.
func monotonicMilliseconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
}

/// The baseline: a bare posix_spawn of the same command with stdout to a pipe, read to EOF,
/// then waitpid. No namespaces, no limits, no filter.
func bareSpawn(_ argv: [String]) -> Double {
    let start = monotonicMilliseconds()
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { return .nan }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    posix_spawn_file_actions_addclose(&actions, fds[0])
    posix_spawn_file_actions_addclose(&actions, fds[1])
    let cargs = argv.map { strdup($0) } + [nil]
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, argv[0], &actions, nil, cargs, environ)
    close(fds[1])
    var buffer = [UInt8](repeating: 0, count: 4096)
    while read(fds[0], &buffer, buffer.count) > 0 {}
    close(fds[0])
    var status: Int32 = 0
    if rc == 0 { waitpid(pid, &status, 0) }
    posix_spawn_file_actions_destroy(&actions)
    for p in cargs { free(p) }
    return rc == 0 ? monotonicMilliseconds() - start : .nan
}

func formatMs(_ v: Double) -> String { String(format: "%8.3f", v) }
