// MARK: - Parameters in one allocation

/// Named float32 tensors that live in ONE contiguous allocation (llm.c's `malloc_and_point_parameters`).
///
/// One allocation makes the optimizer, gradient clipping and zeroing single loops over `count` floats, and lets
/// gradients use the identical layout. Names are the Hugging Face tensor names (`model.layers.0.mlp.up_proj.weight`),
/// so loading and saving a checkpoint is a walk over ``entries``.
public final class ParameterSet: @unchecked Sendable {
    /// One named tensor inside the allocation.
    public struct Entry: Sendable, Equatable {
        /// The Hugging Face tensor name.
        public let name: String
        /// The tensor's shape, outermost first.
        public let shape: [Int]
        /// The first element's offset in floats from ``ParameterSet/storage``.
        public let offset: Int
        /// The number of elements.
        public var count: Int { shape.reduce(1, *) }
    }

    /// The tensors in allocation order.
    public let entries: [Entry]
    /// The total number of floats.
    public let count: Int
    /// The allocation; `count` floats.
    public let storage: UnsafeMutablePointer<Float>
    private let index: [String: Int]
    private let backend: any Backend

    /// Allocates zeroed storage for the given names and shapes, in that order.
    /// - Parameters:
    ///   - layout: the tensors as (name, shape) pairs; names must be unique.
    ///   - backend: the backend whose memory holds the parameters.
    public init(layout: [(name: String, shape: [Int])], backend: any Backend) {
        var entries: [Entry] = []
        var offset = 0
        for (name, shape) in layout {
            entries.append(Entry(name: name, shape: shape, offset: offset))
            offset += shape.reduce(1, *)
        }
        self.entries = entries
        self.count = offset
        self.backend = backend
        self.storage = backend.allocate(offset)
        var index: [String: Int] = [:]
        for (i, e) in entries.enumerated() {
            precondition(index[e.name] == nil, "duplicate parameter name \(e.name)")
            index[e.name] = i
        }
        self.index = index
    }

    /// A new zeroed set with the same layout (for gradients and optimizer moments).
    public func makeZeroedLike() -> ParameterSet {
        ParameterSet(layout: entries.map { ($0.name, $0.shape) }, backend: backend)
    }

    deinit { backend.deallocate(storage) }

    /// The entry for a name, or nil.
    public func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The first element of the named tensor.
    /// - Precondition: the name exists (the model builds its names from the same code that built the layout).
    public func pointer(_ name: String) -> UnsafeMutablePointer<Float> {
        guard let i = index[name] else { preconditionFailure("no parameter named \(name)") }
        return storage + entries[i].offset
    }

    /// The named tensor as an array (a copy).
    public func values(_ name: String) -> [Float] {
        guard let e = entry(name) else { preconditionFailure("no parameter named \(name)") }
        return Array(UnsafeBufferPointer(start: storage + e.offset, count: e.count))
    }

    /// Sets every float to zero.
    public func zero() { storage.update(repeating: 0, count: count) }

    /// Copies all values from a set with the same layout.
    public func copy(from other: ParameterSet) {
        precondition(other.count == count, "parameter layouts differ")
        storage.update(from: other.storage, count: count)
    }
}
