import Foundation
@testable import Sandboxing
import Testing

/// The JSON the host writes for the zygote and the warm harness by hand must read back as what
/// was meant, whatever a string holds.
struct WireJSONTests {
    @Test func stringsNumbersAndNestingReadBackUnchanged() throws {
        let tricky = "quote \" backslash \\ newline \n tab \t bell \u{07} nul \u{00} del \u{7f} é 日本 🙂"
        let value = WireJSON.object([
            ("s", .string(tricky)), ("i", .int(-42)), ("u", .uint(UInt64.max)), ("d", .double(2.5)),
            ("small", .double(1e-05)), ("b", .bool(false)), ("a", .array([.ints([1, 2]), .object([])])),
        ])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(value.bytes)) as? [String: Any])
        #expect(parsed["s"] as? String == tricky)
        #expect(parsed["i"] as? Int == -42)
        #expect((parsed["u"] as? NSNumber)?.uint64Value == UInt64.max)
        #expect(parsed["d"] as? Double == 2.5)
        #expect(parsed["small"] as? Double == 1e-05)
        #expect(parsed["b"] as? Bool == false)
        #expect((parsed["a"] as? [Any])?.count == 2)
    }
}
