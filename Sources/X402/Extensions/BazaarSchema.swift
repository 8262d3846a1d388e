/// The part of JSON Schema (draft 2020-12) that bazaar declarations use, checked with bounded
/// work: `type`, `const`, `enum`, `properties`, `required`, `additionalProperties`, `items`,
/// `minLength`/`maxLength`, `minimum`/`maximum`, `minItems`/`maxItems`. Annotations and other
/// keywords are ignored; a `$ref` is refused (a schema from a peer must not make anyone fetch
/// anything, and same-document references are not resolved here).
///
/// Work is bounded: at most ``maximumDepth`` levels of nesting and ``maximumSteps`` schema
/// checks per validation, so a hostile schema or instance costs linear time at most.
public enum BazaarSchema {
    /// The deepest nesting of schema or instance followed.
    public static let maximumDepth = 32
    /// The most (schema, value) checks one validation makes.
    public static let maximumSteps = 20_000

    /// Why a value does not match a schema.
    public struct Mismatch: Error, Sendable, Hashable, CustomStringConvertible {
        /// Where in the value (`/input/method`), `(root)` at the top.
        public var path: String
        /// What is wrong.
        public var problem: String
        public var description: String { "\(path.isEmpty ? "(root)" : path): \(problem)" }
    }

    /// The first `$ref` or `$id` in `schema` whose value is not a same-document fragment (`#…`).
    ///
    /// - Parameter schema: The schema.
    /// - Returns: The offending value (a non-string shown as its JSON), or `nil`.
    public static func externalReference(in schema: JSONValue) -> String? {
        var stack: [(JSONValue, Int)] = [(schema, 0)]
        var visited = 0
        while let (node, depth) = stack.popLast() {
            visited += 1
            if visited > maximumSteps || depth > maximumDepth { return "(schema too large to inspect)" }
            switch node {
            case .object(let object):
                for (key, value) in object {
                    if key == "$ref" || key == "$id" {
                        guard let text = value.stringValue, text.hasPrefix("#") else { return value.stringValue ?? value.serializedString() }
                    }
                    stack.append((value, depth + 1))
                }
            case .array(let items):
                for item in items { stack.append((item, depth + 1)) }
            default: break
            }
        }
        return nil
    }

    /// Checks `value` against `schema`.
    ///
    /// - Throws: ``Mismatch`` for the first problem found (also when the schema is too deep or
    ///   too large to check, or uses `$ref`).
    public static func validate(_ value: JSONValue, against schema: JSONValue) throws(Mismatch) {
        var steps = 0
        try check(value, schema, path: "", depth: 0, steps: &steps)
    }

    private static func check(_ value: JSONValue, _ schema: JSONValue, path: String, depth: Int, steps: inout Int) throws(Mismatch) {
        steps += 1
        guard steps <= maximumSteps, depth <= maximumDepth else { throw Mismatch(path: path, problem: "too deep or too large to check") }
        switch schema {
        case .bool(true): return
        case .bool(false): throw Mismatch(path: path, problem: "not allowed")
        case .object: break
        default: throw Mismatch(path: path, problem: "the schema is not an object or boolean")
        }
        guard let s = schema.objectValue else { return }
        if s["$ref"] != nil { throw Mismatch(path: path, problem: "$ref is not supported") }
        if let type = s["type"] {
            // Each listed type counts as a step, as enum options and required names do: a list
            // under `items` is walked once per item (n entries over n items would be n² work).
            if let list = type.arrayValue { try charge(list.count, path: path, steps: &steps) }
            let names = type.arrayValue?.compactMap(\.stringValue) ?? type.stringValue.map { [$0] } ?? []
            guard names.contains(where: { matches(value, type: $0) }) else {
                throw Mismatch(path: path, problem: "\(value.typeName) is not of type \(names.joined(separator: " or "))")
            }
        }
        if let constant = s["const"], constant != value {
            throw Mismatch(path: path, problem: "\(value.serializedString()) is not \(constant.serializedString())")
        }
        if let options = s["enum"]?.arrayValue {
            // Each option compared counts as a step: an enum of n options under `items` of an
            // n-item array would otherwise cost n² comparisons within the budget.
            try charge(options.count, path: path, steps: &steps)
            guard options.contains(value) else {
                throw Mismatch(path: path, problem: "\(value.serializedString()) is not one of \(JSONValue.array(options).serializedString())")
            }
        }
        switch value {
        case .string(let text):
            let length = text.unicodeScalars.count
            if let min = s["minLength"]?.intValue, length < min { throw Mismatch(path: path, problem: "shorter than \(min)") }
            if let max = s["maxLength"]?.intValue, length > max { throw Mismatch(path: path, problem: "longer than \(max)") }
        case .number(let number):
            let n = number.doubleValue
            if let min = s["minimum"]?.numberValue?.doubleValue, !(n >= min) { throw Mismatch(path: path, problem: "less than \(min)") }
            if let max = s["maximum"]?.numberValue?.doubleValue, !(n <= max) { throw Mismatch(path: path, problem: "greater than \(max)") }
        case .array(let items):
            if let min = s["minItems"]?.intValue, items.count < min { throw Mismatch(path: path, problem: "fewer than \(min) items") }
            if let max = s["maxItems"]?.intValue, items.count > max { throw Mismatch(path: path, problem: "more than \(max) items") }
            if let itemSchema = s["items"] {
                for (index, item) in items.enumerated() {
                    try check(item, itemSchema, path: path + "/\(index)", depth: depth + 1, steps: &steps)
                }
            }
        case .object(let object):
            let required = s["required"]?.arrayValue ?? []
            try charge(required.count, path: path, steps: &steps)
            for name in required {
                guard let name = name.stringValue else { continue }
                if object[name] == nil { throw Mismatch(path: path, problem: "\"\(name)\" is a required property") }
            }
            let properties = s["properties"]?.objectValue
            for (key, member) in object {
                if let propertySchema = properties?[key] {
                    try check(member, propertySchema, path: path + "/" + key, depth: depth + 1, steps: &steps)
                } else if let additional = s["additionalProperties"] {
                    if additional == .bool(false) { throw Mismatch(path: path, problem: "additional property \"\(key)\" is not allowed") }
                    try check(member, additional, path: path + "/" + key, depth: depth + 1, steps: &steps)
                }
            }
        default: break
        }
    }

    /// Counts `entries` more steps (the entries of a list keyword) against ``maximumSteps``.
    private static func charge(_ entries: Int, path: String, steps: inout Int) throws(Mismatch) {
        steps += entries
        guard steps <= maximumSteps else { throw Mismatch(path: path, problem: "too deep or too large to check") }
    }

    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("number", .number), ("string", .string), ("array", .array), ("object", .object): true
        case ("integer", .number(let n)): n.doubleValue.isFinite && n.doubleValue.rounded() == n.doubleValue
        default: false
        }
    }
}
