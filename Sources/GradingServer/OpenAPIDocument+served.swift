import Rewards

extension OpenAPIDocument {
    /// The document as this server serves it: the bearer requirement is declared only when the
    /// server runs with a token (on loopback without `--token-file` no endpoint needs one).
    static func served(bearerRequired: Bool) -> [UInt8] {
        guard !bearerRequired, case .object(let fields)? = try? JSONValue(parsing: json) else { return Array(json.utf8) }
        return Array(JSONValue.object(fields.filter { $0.0 != "security" }).jsonText.utf8)
    }
}
