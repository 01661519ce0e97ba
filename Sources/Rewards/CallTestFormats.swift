/// The two ways data sets write a function-call test's arguments and expected value.
extension ProblemLoader {
    /// LiveCodeBench's functional tests and verl's call-based ground truth: one JSON value per
    /// line, each line one positional argument (`"[1, 2, 2]\n3"` is `f([1, 2, 2], 3)`), as
    /// LiveCodeBench's harness and verl's `prime_code` parse them (`json.loads(line)` for each
    /// line). Blank lines (a trailing newline) are skipped.
    static func argumentLines(_ text: String, field: String) throws -> [JSONValue] {
        var args: [JSONValue] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            do { args.append(try JSONValue(parsing: String(line))) } catch {
                throw FieldError(field: field, message: "argument line \(n + 1) is not JSON (one JSON value per line, one line per argument): \(error)")
            }
        }
        return args
    }

    /// One call test of a TACO-shaped `{"inputs", "outputs", "fn_name"}` object. TACO/APPS store
    /// an input as the argument list (`[[1, 2, 2], 3]`) and the output as a value (usually
    /// `[ret]`); verl's ground truth stores the input as text with one JSON argument per line and
    /// the output as JSON text (`"2"`), which verl's `prime_code` harness decodes with
    /// `json.loads` before comparing values. A string input is verl's form.
    static func tacoCall(input: JSONValue, output: JSONValue, field: String, index n: Int) throws -> TestCase {
        guard case .string(let text) = input else {
            return .call(nil, input.arrayValue ?? [input], expected: output)
        }
        let args = try argumentLines(text, field: "\(field).inputs[\(n)]")
        guard case .string(let outputText) = output else { return .call(nil, args, expected: output) }
        do {
            return .call(nil, args, expected: try JSONValue(parsing: outputText))
        } catch {
            throw FieldError(field: "\(field).outputs[\(n)]", message: "not JSON (a call test's expected value is JSON text when its input is text): \(error)")
        }
    }
}
