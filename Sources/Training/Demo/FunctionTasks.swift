import Rewards
import TensorEngine

/// The demo's task family: one-function Python tasks over a list of integers, each the composition
/// `reduce(map(x) for x in xs if filter(x))`, generated from templates with a seed.
///
/// A task is a one-line statement that names `f(xs)`, 5 call tests graded in the sandbox, and its
/// reference solution. The held-out split is by composition: a (filter, map) pair is either
/// training's or held-out's for every constant and every reduction, so the held-out set asks for
/// combinations the training set never shows, not only new constants.
///
/// Each filter and each map (but the identity) has a one-token bug (`>` for `>=`, `+` for `*`);
/// the starting checkpoint is taught solutions that carry each bug half of the time, so it starts
/// weak but not hopeless, and RL has to learn to avoid the bugs from the sandbox's rewards.
public enum FunctionTasks {
    /// Which elements a task keeps, given the filter's constant `a`.
    struct Filter: Sendable {
        let name: String
        /// The filter's constants; one value: the filter has none.
        let constants: ClosedRange<Int>
        let phrase: @Sendable (_ a: Int) -> String
        let python: @Sendable (_ a: Int) -> String
        let buggyPython: @Sendable (_ a: Int) -> String
        let keeps: @Sendable (_ x: Int, _ a: Int) -> Bool
        let buggyKeeps: @Sendable (_ x: Int, _ a: Int) -> Bool
    }

    /// What a task does to each kept element, given the map's constant `b`. `phrase` wraps the
    /// filter's phrase.
    struct Map: Sendable {
        let name: String
        let constants: ClosedRange<Int>
        let phrase: @Sendable (_ kept: String, _ b: Int) -> String
        let python: @Sendable (_ b: Int) -> String
        /// nil: this map has no bug site.
        let buggyPython: (@Sendable (_ b: Int) -> String)?
        let apply: @Sendable (_ x: Int, _ b: Int) -> Int
        let buggyApply: (@Sendable (_ x: Int, _ b: Int) -> Int)?
    }

    /// How a task combines the mapped elements.
    struct Reduce: Sendable {
        let name: String
        let statement: @Sendable (_ mapped: String) -> String
        let python: @Sendable (_ expression: String, _ condition: String) -> String
        let value: @Sendable ([Int]) -> JSONValue
    }

    /// Python's `%` (the sign of the divisor), which the Python solutions use.
    static func pythonMod(_ x: Int, _ m: Int) -> Int { ((x % m) + m) % m }

    static let none = 0...0

    static let filters: [Filter] = [
        Filter(name: "even", constants: none, phrase: { _ in "the even numbers in xs" }, python: { _ in "x % 2 == 0" },
               buggyPython: { _ in "x % 2 != 0" }, keeps: { x, _ in pythonMod(x, 2) == 0 }, buggyKeeps: { x, _ in pythonMod(x, 2) != 0 }),
        Filter(name: "odd", constants: none, phrase: { _ in "the odd numbers in xs" }, python: { _ in "x % 2 == 1" },
               buggyPython: { _ in "x % 2 != 1" }, keeps: { x, _ in pythonMod(x, 2) == 1 }, buggyKeeps: { x, _ in pythonMod(x, 2) != 1 }),
        Filter(name: "positive", constants: none, phrase: { _ in "the positive numbers in xs" }, python: { _ in "x > 0" },
               buggyPython: { _ in "x >= 0" }, keeps: { x, _ in x > 0 }, buggyKeeps: { x, _ in x >= 0 }),
        Filter(name: "negative", constants: none, phrase: { _ in "the negative numbers in xs" }, python: { _ in "x < 0" },
               buggyPython: { _ in "x <= 0" }, keeps: { x, _ in x < 0 }, buggyKeeps: { x, _ in x <= 0 }),
        Filter(name: "above", constants: -3...6, phrase: { "the numbers in xs greater than \($0)" }, python: { "x > \($0)" },
               buggyPython: { "x >= \($0)" }, keeps: { x, a in x > a }, buggyKeeps: { x, a in x >= a }),
        Filter(name: "below", constants: -3...6, phrase: { "the numbers in xs less than \($0)" }, python: { "x < \($0)" },
               buggyPython: { "x <= \($0)" }, keeps: { x, a in x < a }, buggyKeeps: { x, a in x <= a }),
        Filter(name: "multiple", constants: 2...5, phrase: { "the multiples of \($0) in xs" }, python: { "x % \($0) == 0" },
               buggyPython: { "x % \($0) != 0" }, keeps: { x, a in pythonMod(x, a) == 0 }, buggyKeeps: { x, a in pythonMod(x, a) != 0 }),
    ]

    static let maps: [Map] = [
        Map(name: "identity", constants: none, phrase: { kept, _ in kept }, python: { _ in "x" }, buggyPython: nil,
            apply: { x, _ in x }, buggyApply: nil),
        Map(name: "square", constants: none, phrase: { kept, _ in "the squares of \(kept)" }, python: { _ in "x * x" },
            buggyPython: { _ in "x + x" }, apply: { x, _ in x * x }, buggyApply: { x, _ in x + x }),
        Map(name: "double", constants: none, phrase: { kept, _ in "twice each of \(kept)" }, python: { _ in "2 * x" },
            buggyPython: { _ in "2 + x" }, apply: { x, _ in 2 * x }, buggyApply: { x, _ in 2 + x }),
        Map(name: "negate", constants: none, phrase: { kept, _ in "the negations of \(kept)" }, python: { _ in "-x" },
            buggyPython: { _ in "~x" }, apply: { x, _ in -x }, buggyApply: { x, _ in ~x }),
        Map(name: "abs", constants: none, phrase: { kept, _ in "the absolute values of \(kept)" }, python: { _ in "abs(x)" },
            buggyPython: { _ in "-abs(x)" }, apply: { x, _ in abs(x) }, buggyApply: { x, _ in -abs(x) }),
        Map(name: "plus", constants: 2...6, phrase: { kept, b in "each of \(kept) plus \(b)" }, python: { "x + \($0)" },
            buggyPython: { "x - \($0)" }, apply: { x, b in x + b }, buggyApply: { x, b in x - b }),
        Map(name: "minus", constants: 2...6, phrase: { kept, b in "each of \(kept) minus \(b)" }, python: { "x - \($0)" },
            buggyPython: { "x + \($0)" }, apply: { x, b in x - b }, buggyApply: { x, b in x + b }),
        Map(name: "times", constants: 2...6, phrase: { kept, b in "each of \(kept) times \(b)" }, python: { "x * \($0)" },
            buggyPython: { "x ** \($0)" }, apply: { x, b in x * b }, buggyApply: { x, b in power(x, b) }),
    ]

    static func power(_ x: Int, _ b: Int) -> Int { (0..<b).reduce(1) { r, _ in r * x } }

    static let reduces: [Reduce] = [
        Reduce(name: "sum", statement: { "return the sum of \($0)." },
               python: { "sum(\($0) for x in xs if \($1))" }, value: { .int(String($0.reduce(0, +))) }),
        Reduce(name: "max", statement: { "return the largest of \($0), or 0 if there are none." },
               python: { "max((\($0) for x in xs if \($1)), default=0)" }, value: { .int(String($0.max() ?? 0)) }),
        Reduce(name: "min", statement: { "return the smallest of \($0), or 0 if there are none." },
               python: { "min((\($0) for x in xs if \($1)), default=0)" }, value: { .int(String($0.min() ?? 0)) }),
        Reduce(name: "list", statement: { "return the list of \($0), in order." },
               python: { "[\($0) for x in xs if \($1)]" }, value: { .array($0.map { .int(String($0)) }) }),
    ]

    /// A (filter, map) pair is held out when this holds: 12 of the 56 pairs, spread so that every
    /// filter and every map still appears in training with most partners.
    static func isHeldOut(filter: Int, map: Int) -> Bool { (filter + 2 * map) % 5 == 0 }

    public enum Split: String, Sendable, CaseIterable { case train, heldOut = "held-out" }

    /// One generated task: the problem as `assay grade` reads it, and how it was built.
    public struct Task: Sendable {
        public var problem: Problem
        public var filter: String, map: String, reduce: String
        /// The reference solution, with the filter's bug and the map's bug or without.
        let solution: @Sendable (_ buggyFilter: Bool, _ buggyMap: Bool) -> String
        public let mapHasBug: Bool

        /// The answer as a model is taught to write it: a fenced Python block.
        public func answer(buggyFilter: Bool = false, buggyMap: Bool = false) -> String {
            "```python\n\(solution(buggyFilter, buggyMap))```"
        }
    }

    /// `count` tasks of `split`, the same for the same seed, each statement once until new ones
    /// become hard to find (the training split has about 1,800, the held-out one about 450). Every task's tests tell its solution from each of
    /// its buggy variants.
    public static func generate(split: Split, count: Int, seed: UInt64) -> [Task] {
        let pairs = filters.indices.flatMap { f in maps.indices.map { (f, $0) } }
            .filter { isHeldOut(filter: $0.0, map: $0.1) == (split == .heldOut) }
        var rng = SplitMix64(seed: RolloutWorker.mix(seed, split == .train ? 0x7A1 : 0x4E1D))
        var tasks: [Task] = []
        var seen = Set<String>()
        var misses = 0
        while tasks.count < count {
            let (fi, mi) = pairs.randomElement(using: &rng)!
            let (filter, map, reduce) = (filters[fi], maps[mi], reduces.randomElement(using: &rng)!)
            let a = Int.random(in: filter.constants, using: &rng), b = Int.random(in: map.constants, using: &rng)
            let statement = "Write f(xs): \(reduce.statement(map.phrase(filter.phrase(a), b)))"
            // A statement repeats (with other tests) only once 1000 draws in a row found no new one.
            if seen.contains(statement), misses < 1000 {
                misses += 1
                continue
            }
            if misses < 1000 { misses = 0 }
            seen.insert(statement)
            let id = "\(split == .train ? "train" : "heldout")-\(tasks.count)"
            guard let task = make(filter: filter, map: map, reduce: reduce, a: a, b: b, statement: statement, id: id, rng: &rng) else { continue }
            tasks.append(task)
        }
        return tasks
    }

    static func make(filter: Filter, map: Map, reduce: Reduce, a: Int, b: Int, statement: String, id: String,
                     rng: inout SplitMix64) -> Task? {
        func run(_ xs: [Int], buggyFilter: Bool, buggyMap: Bool) -> JSONValue {
            let kept = xs.filter { buggyFilter ? filter.buggyKeeps($0, a) : filter.keeps($0, a) }
            return reduce.value(kept.map { buggyMap ? map.buggyApply!($0, b) : map.apply($0, b) })
        }
        let variants = [(true, false)] + (map.buggyApply == nil ? [] : [(false, true), (true, true)])
        // Inputs: 5 lists of 4–8 integers in −9…9, drawn until every buggy variant fails one.
        for _ in 0..<50 {
            let inputs = (0..<5).map { _ in
                (0..<Int.random(in: 4...8, using: &rng)).map { _ in Int.random(in: -9...9, using: &rng) }
            }
            let expected = inputs.map { run($0, buggyFilter: false, buggyMap: false) }
            let caught = variants.allSatisfy { v in inputs.indices.contains { run(inputs[$0], buggyFilter: v.0, buggyMap: v.1) != expected[$0] } }
            guard caught else { continue }
            let solution: @Sendable (Bool, Bool) -> String = { bf, bm in
                let condition = bf ? filter.buggyPython(a) : filter.python(a)
                let expression = bm ? map.buggyPython!(b) : map.python(b)
                return "def f(xs):\n    return \(reduce.python(expression, condition))\n"
            }
            var problem = Problem(id: id, source: "native", statement: statement,
                                  tests: zip(inputs, expected).map { .call(nil, [.array($0.map { .int(String($0)) })], expected: $1) },
                                  entryPoint: "f", timeLimitSeconds: 2, referenceSolutions: [solution(false, false)])
            problem.maxTests = 0
            return Task(problem: problem, filter: filter.name, map: map.name, reduce: reduce.name,
                        solution: solution, mapHasBug: map.buggyApply != nil)
        }
        return nil
    }
}
