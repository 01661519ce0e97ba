import Foundation
import Rewards
import Sandboxing

/// SandboxFusion's `files` (`{name: base64 | null}`, written into the program's work dir before
/// it runs) and `fetch_files` (`[name]`, returned base64 in the response's `files` after it).
/// Names are plain file names in the work dir; a name that is missing after the run, a symlink,
/// not a regular file, or over what is left of the fetch cap is left out, as SandboxFusion
/// leaves out what is not a file.
enum RunCodeFiles {
    /// Entries in `files` and in `fetch_files`, each.
    static let maxNames = 64
    /// Decoded bytes of all `files` together.
    static let maxSentBytes = 16 << 20
    /// Bytes of all fetched files together.
    static let maxFetchedBytes = 16 << 20

    static func parse(_ f: Fields) throws -> WorkDirExchange {
        var exchange = WorkDirExchange(fetchLimitBytes: maxFetchedBytes)
        if let files = f.value["files"], !files.isNull {
            guard let entries = files.objectValue else { throw f.wrongType("files", "an object {name: base64 or null}", files) }
            try checkCount("files", entries.count)
            var sent = 0
            var seen = Set<String>()
            for (name, content) in entries {
                try checkName("files", name)
                guard seen.insert(name).inserted else { throw badRequest("field 'files' names '\(name)' twice") }
                if content.isNull { continue }  // SandboxFusion skips entries without content
                guard let text = content.stringValue else { throw f.wrongType("files.\(name)", "base64 text or null", content) }
                guard let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters) else {
                    throw badRequest("field 'files.\(name)' is not valid base64")
                }
                sent += data.count
                guard sent <= maxSentBytes else {
                    throw badRequest("field 'files' holds more than \(maxSentBytes >> 20) MiB once decoded; send at most that in all")
                }
                exchange.files.append(BoxFile(name: name, contents: [UInt8](data)))
            }
        }
        if let fetch = try f.optionalArray("fetch_files") {
            try checkCount("fetch_files", fetch.count)
            for (n, v) in fetch.enumerated() {
                guard let name = v.stringValue else { throw badRequest("field 'fetch_files[\(n)]' must be a string, got \(v.typeName)") }
                try checkName("fetch_files", name)
                exchange.fetch.append(name)
            }
        }
        return exchange
    }

    static func checkCount(_ field: String, _ count: Int) throws {
        guard count <= maxNames else { throw badRequest("field '\(field)' has \(count) entries; the limit is \(maxNames)") }
    }

    static func checkName(_ field: String, _ name: String) throws {
        guard WorkDirExchange.isAcceptedName(name) else {
            throw badRequest("field '\(field)' names '\(name)'; use plain file names in the program's work dir (no '/', not '.' or '..')")
        }
    }

    /// The response's `files`: each fetched file base64, by the name it was asked for.
    static func json(_ files: [String: [UInt8]]) -> JSONValue {
        .object(files.keys.sorted().map { ($0, .string(Data(files[$0]!).base64EncodedString())) })
    }
}
