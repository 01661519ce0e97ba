import Foundation

/// The recipe values a reader of a report wants first, read leniently from a run's config.json: a key an older
/// or newer recipe lacks is left out rather than failing the report.
struct RecipeSummary: Sendable, Equatable {
    struct Item: Sendable, Equatable {
        var label: String
        var value: String
    }

    var items: [Item]

    static func read(directory: URL) -> RecipeSummary {
        let file = directory.appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: file.path),
              let recipe = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return RecipeSummary(items: [Item(label: "recipe", value: "no readable config.json")])
        }
        func text(_ key: String) -> String? {
            switch recipe[key] {
            case let s as String: s
            case let n as NSNumber: formatNumber(n.doubleValue)
            default: nil
            }
        }
        var items: [Item] = []
        func add(_ label: String, _ value: String?) { if let value { items.append(Item(label: label, value: value)) } }
        add("model", text("model"))
        add("data", text("data"))
        add("held-out", text("heldOut"))
        add("steps", text("steps"))
        if let prompts = text("promptsPerStep"), let group = text("groupSize") {
            add("prompts × group", "\(prompts) × \(group)")
        }
        add("learning rate", text("learningRate"))
        add("temperature", text("temperature"))
        add("pipeline", text("pipeline"))
        // Which reward the learner got is what tells a run from its control.
        if let coinFlip = recipe["coinFlipControl"] as? Bool {
            add("reward", coinFlip ? "coin flip at the step's mean sandbox reward (control)" : "sandbox")
        }
        return RecipeSummary(items: items)
    }
}

/// A number as a person reads it: integers without a point, others with up to 4 significant digits.
func formatNumber(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return String(format: "%.4g", value)
}
