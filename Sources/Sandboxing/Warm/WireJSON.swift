import Foundation

/// The JSON the host writes for the zygote and the warm harness (a zygote request, a job
/// header), written directly. Foundation's `JSONSerialization` bridges every dictionary and
/// array to its NS counterpart first, which cost more host CPU per `/run_code` request than
/// the rest of the host's side of a run put together.
enum WireJSON {
    case int(Int)
    /// rlimits: RLIM_INFINITY is UInt64.max.
    case uint(UInt64)
    case double(Double)
    case bool(Bool)
    case string(String)
    case array([WireJSON])
    /// Keys in the order given (Python reads them into a dict; order does not matter).
    case object([(String, WireJSON)])

    static func ints(_ values: [Int]) -> WireJSON { .array(values.map { .int($0) }) }

    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out)
        return out
    }

    private func write(into out: inout [UInt8]) {
        switch self {
        case .int(let v): out += String(v).utf8
        case .uint(let v): out += String(v).utf8
        case .double(let v):
            // Limits are validated finite before they get here; JSON has no inf or nan.
            out += (v.isFinite ? "\(v)" : "0").utf8
        case .bool(let v): out += (v ? "true" : "false").utf8
        case .string(let s): Self.writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string: `"` and `\` escaped, control characters as `\u00XX`, everything else as
    /// its UTF-8 bytes.
    private static let hex = Array("0123456789abcdef".utf8)

    private static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out += [UInt8(ascii: "\\"), byte]
            case UInt8(ascii: "\n"):
                out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0..<0x20:
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
