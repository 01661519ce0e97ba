import Foundation

// MARK: - safetensors

/// Reads and writes the `safetensors` format: an 8-byte little-endian header length, a JSON header mapping each
/// tensor name to `{dtype, shape, data_offsets}`, then the raw little-endian data.
///
/// Reading converts F32, F16 and BF16 to float32 (real Qwen2 checkpoints are BF16); writing always uses F32.
public enum SafeTensors {
    /// One tensor as read from a file, converted to float32.
    public struct Tensor: Sendable {
        /// The tensor's shape.
        public var shape: [Int]
        /// The elements in row-major order.
        public var values: [Float]
    }

    /// Reads every tensor and the optional `__metadata__` string map.
    /// - Throws: ``EngineError`` naming the file and what is wrong with it.
    public static func read(_ url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        var tensors: [String: Tensor] = [:]
        let metadata = try forEachTensor(in: url) { name, shape, values in
            tensors[name] = Tensor(shape: shape, values: Array(values))
        }
        return (tensors, metadata)
    }

    /// Visits the tensors of a file one at a time, converted to float32, without holding them all in memory (a
    /// real checkpoint is gigabytes; the file is memory-mapped and one tensor's floats exist at a time).
    /// - Parameter visit: called with the name, the shape and the values, valid only during the call.
    /// - Returns: the `__metadata__` string map.
    /// - Throws: ``EngineError`` naming the file and what is wrong with it, or what `visit` throws.
    @discardableResult
    public static func forEachTensor(
        in url: URL, _ visit: (String, [Int], UnsafeBufferPointer<Float>) throws -> Void
    ) throws -> [String: String] {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw EngineError.io("cannot read safetensors file \(url.path): \(error)")
        }
        guard data.count >= 8 else { throw EngineError.format("\(url.path) is too short to be safetensors") }
        let headerLength = data.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        guard headerLength > 0, 8 + headerLength <= data.count else {
            throw EngineError.format("\(url.path): header length \(headerLength) does not fit the file")
        }
        let headerData = data.subdata(in: 8..<(8 + headerLength))
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw EngineError.format("\(url.path): the safetensors header is not a JSON object")
        }
        let metadata = header["__metadata__"] as? [String: String] ?? [:]
        let base = 8 + headerLength
        var values: [Float] = []
        for name in header.keys.sorted() where name != "__metadata__" {
            guard let info = header[name] as? [String: Any], let dtype = info["dtype"] as? String,
                let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else { throw EngineError.format("\(url.path): malformed header entry for \(name)") }
            let count = shape.reduce(1, *)
            let width: Int
            switch dtype {
            case "F32": width = 4
            case "F16", "BF16": width = 2
            default: throw EngineError.unsupported("\(url.path): tensor \(name) has dtype \(dtype); only F32, F16, BF16 load")
            }
            guard offsets[1] - offsets[0] == count * width, base + offsets[1] <= data.count else {
                throw EngineError.format("\(url.path): data_offsets of \(name) do not match its shape \(shape)")
            }
            if values.count < count { values = [Float](repeating: 0, count: count) }
            data.withUnsafeBytes { raw in
                let bytes = raw.baseAddress! + base + offsets[0]
                switch dtype {
                case "F32":
                    for i in 0..<count {
                        values[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    }
                case "BF16":
                    for i in 0..<count {
                        let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                        values[i] = Float(bitPattern: UInt32(bits) << 16)
                    }
                default:
                    for i in 0..<count {
                        let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                        values[i] = halfToFloat(bits)
                    }
                }
            }
            try values.withUnsafeBufferPointer { try visit(name, shape, UnsafeBufferPointer(rebasing: $0[0..<count])) }
        }
        return metadata
    }

    /// Writes float32 tensors, in the order given, with optional metadata.
    /// - Parameters:
    ///   - tensors: (name, shape, pointer to the first of `shape.product` floats).
    ///   - metadata: string pairs stored under `__metadata__`.
    ///   - url: the destination; written atomically.
    /// - Throws: ``EngineError/io(_:)`` if the file cannot be written.
    public static func write(
        _ tensors: [(name: String, shape: [Int], data: UnsafePointer<Float>)], metadata: [String: String] = [:],
        to url: URL
    ) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for t in tensors {
            let bytes = t.shape.reduce(1, *) * 4
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var headerData = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
        while (8 + headerData.count) % 8 != 0 { headerData.append(0x20) }
        var out = Data(capacity: 8 + headerData.count + offset)
        withUnsafeBytes(of: UInt64(headerData.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(headerData)
        for t in tensors {
            let count = t.shape.reduce(1, *)
            out.append(UnsafeBufferPointer(start: t.data, count: count))  // host is little-endian (x86_64, arm64)
        }
        do { try out.write(to: url, options: .atomic) } catch {
            throw EngineError.io("cannot write \(url.path): \(error)")
        }
    }

    /// IEEE half to float, written out so it does not depend on `Float16` being available on the platform.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        var exponent = Int((h >> 10) & 0x1F)
        var mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            while mantissa & 0x400 == 0 { mantissa <<= 1; exponent -= 1 }  // subnormal: normalise
            exponent += 1
            mantissa &= 0x3FF
        } else if exponent == 31 {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
    }
}
