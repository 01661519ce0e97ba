import Rewards

extension OpenAPIDocument {
    /// The document as this server serves it: the bearer requirement is declared only when the
    /// server runs with a token (on loopback without `--token-file` no endpoint needs one), and
    /// every optional field of a request may be null, which the server reads as absent (`Fields`).
    static func served(bearerRequired: Bool) -> [UInt8] {
        guard case .object(var fields)? = try? JSONValue(parsing: json) else { return Array(json.utf8) }
        if !bearerRequired { fields.removeAll { $0.0 == "security" } }
        let formats = JSONValue.array(DataFormat.allCases.map { .string($0.rawValue) })
        fields = fields.map { key, value in
            key == "components" ? (key, value.updating("schemas") { $0.mapObject { name, schema in
                var schema = schema
                if name == "GradeItem" {
                    schema = schema.updating("properties") { $0.updating("format") { $0.adding("enum", formats) } }
                }
                guard requestSchemas.contains(name) else { return schema }
                return schema.updating("properties") { properties in
                    let required = Set(schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                    return properties.mapObject { required.contains($0) ? $1 : nullable($1) }
                }
            } }) : (key, value)
        }
        return Array(JSONValue.object(fields).jsonText.utf8)
    }

    /// The schemas of request bodies (their optional fields accept null).
    static let requestSchemas: Set<String> = ["RunCodeRequest", "GradeItem", "GradeOptions", "GradeRequest", "OpenRLHFRequest"]

    /// `schema` that also admits null.
    private static func nullable(_ schema: JSONValue) -> JSONValue {
        if schema["$ref"] != nil { return .object([("anyOf", .array([schema, .object([("type", .string("null"))])]))]) }
        var result = schema
        switch schema["type"] {
        case .string(let type)?: result = result.updating("type") { _ in .array([.string(type), .string("null")]) }
        case .array(let types)? where !types.contains(.string("null")): result = result.updating("type") { _ in .array(types + [.string("null")]) }
        default: break
        }
        if let values = schema["enum"]?.arrayValue, !values.contains(.null) {
            result = result.updating("enum") { _ in .array(values + [.null]) }
        }
        return result
    }
}

private extension JSONValue {
    /// This object with `key`'s value replaced by `change` of it (unchanged when absent).
    func updating(_ key: String, _ change: (JSONValue) -> JSONValue) -> JSONValue {
        guard case .object(let pairs) = self else { return self }
        return .object(pairs.map { $0.0 == key ? ($0.0, change($0.1)) : $0 })
    }

    /// This object with `key` set to `value` (added at the end).
    func adding(_ key: String, _ value: JSONValue) -> JSONValue {
        guard case .object(let pairs) = self else { return self }
        return .object(pairs.filter { $0.0 != key } + [(key, value)])
    }

    /// This object with each value replaced by `change(key, value)`.
    func mapObject(_ change: (String, JSONValue) -> JSONValue) -> JSONValue {
        guard case .object(let pairs) = self else { return self }
        return .object(pairs.map { ($0.0, change($0.0, $0.1)) })
    }
}
