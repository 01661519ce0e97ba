import Glibc

/// The host's request for one box, as the zygote's engine reads it: `assay_box_request` in
/// Sources/ZygoteEngine/include/assay_zygote.h, then the seccomp filter's instructions. Every
/// field of the fixed part is 8 bytes in native byte order, in the C struct's order.
struct ZygoteBoxRequest {
    enum Kind: Int64 {
        case harness = 1
        case program = 2
    }

    /// ASSAY_BOX_REQUEST_MAGIC: a host and an engine that agree on this layout.
    static let magic: Int64 = 0x3167_7a79_6173_7361
    /// ASSAY_BOX_REQUEST_MAX_RLIMITS
    static let maxRlimits = 16

    var kind: Kind
    var uid: uid_t
    /// How many cgroup.procs descriptors the message carries after the network namespace.
    var procs: Int
    var boxBytes: Int
    var boxInodes: Int
    var rlimits: [(resource: Int32, soft: UInt64, hard: UInt64)]
    /// struct sock_filter instructions, 8 bytes each.
    var filter: [UInt8]

    var bytes: [UInt8] {
        precondition(rlimits.count <= Self.maxRlimits, "more rlimits than the zygote's request holds")
        var out: [UInt8] = []
        out.reserveCapacity(64 + Self.maxRlimits * 24 + filter.count)
        func put(_ value: UInt64) { withUnsafeBytes(of: value) { out.append(contentsOf: $0) } }
        for field in [Self.magic, kind.rawValue, Int64(uid), Int64(procs), Int64(boxBytes), Int64(boxInodes),
                      Int64(rlimits.count), Int64(filter.count / 8)] {
            put(UInt64(bitPattern: field))
        }
        for index in 0..<Self.maxRlimits {
            let limit = index < rlimits.count ? rlimits[index] : (resource: 0, soft: 0, hard: 0)
            put(UInt64(bitPattern: Int64(limit.resource)))
            put(limit.soft)
            put(limit.hard)
        }
        out += filter
        return out
    }
}
