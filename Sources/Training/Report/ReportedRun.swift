import Foundation

/// One run as the report sees it: where it is, its metrics and its recipe's headline values.
struct ReportedRun: Sendable {
    var directory: String
    var metrics: RunMetrics
    var recipe: RecipeSummary

    init(directory: String) throws {
        let url = URL(fileURLWithPath: directory)
        self.directory = directory
        metrics = try RunMetrics.read(directory: url)
        recipe = RecipeSummary.read(directory: url)
    }

    init(directory: String, metrics: RunMetrics, recipe: RecipeSummary) {
        self.directory = directory
        self.metrics = metrics
        self.recipe = recipe
    }

    /// "pass@8" when the validation recorded its samples per problem (`heldout_samples`), else "pass@n".
    var passAtN: String {
        guard let samples = metrics.validations.last(where: { $0["heldout_samples"] != nil })?["heldout_samples"] else {
            return "pass@n"
        }
        return "pass@\(formatNumber(samples))"
    }

    /// The first and last validation (the same line when there is one; nil when the run never validated).
    var firstValidation: MetricsLine? { metrics.validations.first }
    var lastValidation: MetricsLine? { metrics.validations.count > 1 ? metrics.validations.last : nil }
}
