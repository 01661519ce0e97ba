import Foundation

// MARK: - Loading and saving Hugging Face checkpoints

extension Qwen2Model {
    /// Loads a model directory as Hugging Face writes it: `config.json` plus `model.safetensors`, or sharded
    /// `model-0000k-of-0000n.safetensors` files listed in `model.safetensors.index.json`.
    ///
    /// - Parameters:
    ///   - directory: the checkpoint directory.
    ///   - backend: where the weights live.
    /// - Throws: ``EngineError`` if a file is missing, a tensor is missing or has the wrong shape, or an unknown
    ///   tensor is present (which would mean the architecture differs).
    public static func load(directory: URL, backend: any Backend = CPUBackend()) throws -> Qwen2Model {
        let config = try Qwen2Config.load(from: directory.appendingPathComponent("config.json"))
        let model = try Qwen2Model(config: config, backend: backend)
        let fm = FileManager.default
        let single = directory.appendingPathComponent("model.safetensors")
        var files: [URL] = []
        if fm.fileExists(atPath: single.path) {
            files = [single]
        } else {
            let indexURL = directory.appendingPathComponent("model.safetensors.index.json")
            guard let data = fm.contents(atPath: indexURL.path),
                let index = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let weightMap = index["weight_map"] as? [String: String]
            else {
                throw EngineError.io(
                    "\(directory.path) has neither model.safetensors nor a readable model.safetensors.index.json")
            }
            files = Set(weightMap.values).sorted().map { directory.appendingPathComponent($0) }
        }
        var loaded = Set<String>()
        for file in files {
            try SafeTensors.forEachTensor(in: file) { name, shape, values in
                if name.hasSuffix("rotary_emb.inv_freq") { return }  // older checkpoints store the RoPE table
                if name == "lm_head.weight" && config.tieWordEmbeddings { return }  // the tied copy
                guard let entry = model.parameters.entry(name) else {
                    throw EngineError.format("\(file.lastPathComponent): unexpected tensor \(name) for a \(config.modelType) model")
                }
                guard entry.shape == shape else {
                    throw EngineError.format(
                        "\(file.lastPathComponent): \(name) has shape \(shape), config.json implies \(entry.shape)")
                }
                (model.parameters.storage + entry.offset).update(from: values.baseAddress!, count: entry.count)
                loaded.insert(name)
            }
        }
        let missing = model.parameters.entries.map(\.name).filter { !loaded.contains($0) }
        guard missing.isEmpty else {
            throw EngineError.format("\(directory.path) lacks \(missing.count) tensors, first \(missing[0])")
        }
        return model
    }

    /// Writes `config.json` and `model.safetensors` (float32, Hugging Face names) into a directory, creating it.
    /// - Throws: ``EngineError/io(_:)`` if the directory or files cannot be written.
    public func save(directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(config).write(to: directory.appendingPathComponent("config.json"), options: .atomic)
        } catch {
            throw EngineError.io("cannot write config.json into \(directory.path): \(error)")
        }
        try SafeTensors.write(
            parameters.entries.map { ($0.name, $0.shape, UnsafePointer(parameters.storage + $0.offset)) },
            metadata: ["format": "pt"], to: directory.appendingPathComponent("model.safetensors"))
    }
}
