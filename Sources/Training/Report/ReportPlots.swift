/// The report's plots in page order, each with the caption that says what it shows; a control run's curves are
/// drawn dashed in the colour of the run's own.
struct ReportPlots: Sendable {
    var run: ReportedRun
    var control: ReportedRun?

    struct Figure {
        var svg: String
        var caption: String
    }

    enum Colour {
        static let reward = "#1f77b4", passAt1 = "#d62728", passAtN = "#2ca02c"
        static let trainNoCode = "#9467bd", heldOutNoCode = "#8c564b"
        static let lengthMean = "#1f77b4", lengthMax = "#ff7f0e", budget = "#7f7f7f"
        static let truncated = "#e377c2", clip = "#17becf", lowerClip = "#bcbd22", gradientNorm = "#1f77b4"
    }

    /// Train reward with held-out pass@1 and pass@n, the control's beside them: the report's main curve.
    var rewardPlot: LinePlot {
        func curves(_ r: ReportedRun, prefix: String, dashed: Bool) -> [PlotSeries] {
            let steps = r.metrics.trainingSteps, validations = r.metrics.validations
            return [PlotSeries.of("reward_mean", in: steps, name: prefix + "train reward", colour: Colour.reward, dashed: dashed),
                    PlotSeries.of("heldout_pass_at_1", in: validations, at: \.validationPosition,
                                  name: prefix + "held-out pass@1", colour: Colour.passAt1, dashed: dashed),
                    PlotSeries.of("heldout_pass_at_n", in: validations, at: \.validationPosition,
                                  name: prefix + "held-out " + r.passAtN, colour: Colour.passAtN, dashed: dashed)]
        }
        let series = curves(run, prefix: "", dashed: false) + (control.map { curves($0, prefix: "control: ", dashed: true) } ?? [])
        return LinePlot(id: "plot-reward", title: "Train reward and held-out pass rates", yLabel: "fraction",
                        series: series, fixedRange: 0...1, keys: ["reward_mean", "heldout_pass_at_1", "heldout_pass_at_n"])
    }

    var figures: [Figure] {
        let steps = run.metrics.trainingSteps
        func line(_ key: String, _ name: String, _ colour: String) -> PlotSeries {
            PlotSeries.of(key, in: steps, name: name, colour: colour)
        }
        let noCode = LinePlot(
            id: "plot-no-code", title: "No-code rate", yLabel: "fraction of samples",
            series: [line("no_code_rate", "train", Colour.trainNoCode),
                     PlotSeries.of("heldout_no_code_rate", in: run.metrics.validations, at: \.validationPosition,
                                   name: "held-out", colour: Colour.heldOutNoCode)],
            fixedRange: 0...1, keys: ["no_code_rate", "heldout_no_code_rate"])
        let length = LinePlot(
            id: "plot-response-length", title: "Response length", yLabel: "tokens",
            series: [line("response_length_mean", "mean", Colour.lengthMean), line("response_length_max", "max", Colour.lengthMax),
                     line("max_response_tokens", "budget", Colour.budget)],
            keys: ["response_length_mean", "response_length_max", "max_response_tokens"])
        let truncated = LinePlot(
            id: "plot-truncated", title: "Truncated fraction", yLabel: "fraction of samples",
            series: [line("truncated_fraction", "cut at the budget", Colour.truncated)], fixedRange: 0...1,
            keys: ["truncated_fraction"])
        let clip = LinePlot(
            id: "plot-clip", title: "Clip fractions", yLabel: "fraction of tokens",
            series: [line("clip_fraction", "clipped", Colour.clip),
                     line("lower_clip_fraction", "dual clip", Colour.lowerClip)],
            keys: ["clip_fraction", "lower_clip_fraction"])
        let gradient = LinePlot(
            id: "plot-gradient-norm", title: "Gradient norm", yLabel: "L2 norm (before clipping)",
            series: [line("gradient_norm", "gradient norm", Colour.gradientNorm)], keys: ["gradient_norm"])
        let controlNote = control == nil ? "" : " Dashed: the control run."
        return [
            Figure(svg: rewardPlot.svg(), caption: "Train reward (mean reward of the step's samples) and held-out pass@1 / "
                   + "\(run.passAtN) at each validation; a validation at step k used the weights after k steps.\(controlNote)"),
            Figure(svg: noCode.svg(), caption: "Share of samples with no code block to grade (train and held-out)."),
            Figure(svg: length.svg(), caption: "Response length in tokens per step: mean, longest, and the budget in force."),
            Figure(svg: truncated.svg(), caption: "Share of the step's samples cut at the response budget."),
            Figure(svg: clip.svg(), caption: "Share of tokens where the clipped term of the loss won, and where the dual clip acted (negative advantage, ratio above its bound)."),
            Figure(svg: gradient.svg(), caption: "Global gradient norm before clipping to maxGradientNorm, the mean over the step's optimizer updates."),
            Figure(svg: TimeSplitPlot(steps: steps).svg(), caption: "Seconds per step. Left bar: the sampler drawing the step's "
                   + "batch (sample, then the grading not hidden behind sampling). Right bar: the learner (learn, then wait for the "
                   + "next batch). With one-off pipelining the sampler drew step k's batch while the learner worked on step k − 1, "
                   + "so the bars overlap in time; with --pipeline off they run one after the other. Line: the step's wall time."),
        ]
    }
}
