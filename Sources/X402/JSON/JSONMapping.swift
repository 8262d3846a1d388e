/// A JSON document that is structurally valid JSON but not a valid x402 message.
public struct MessageDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Problem: Sendable, Equatable {
        case missingField
        case wrongType(expected: String, found: String)
        case invalidValue(String)
    }

    /// Where the problem is, as a JSON path such as `accepts[0].amount`.
    public var path: String
    public var problem: Problem

    public init(path: String, problem: Problem) {
        self.path = path
        self.problem = problem
    }

    public var description: String {
        let at = path.isEmpty ? "message" : "`\(path)`"
        switch problem {
        case .missingField: return "\(at) is required"
        case .wrongType(let expected, let found): return "\(at) must be \(expected), found \(found)"
        case .invalidValue(let why): return "\(at) is invalid: \(why)"
        }
    }
}

/// A value with an exact, hand-written JSON mapping.
///
/// The mapping fixes the member order the reference SDKs emit and reports precise errors for bad
/// input. `Codable` conformance is derived from it, so these values also work with
/// `JSONEncoder`/`JSONDecoder` (through which key order is up to Foundation).
public protocol JSONRepresentable: Sendable {
    /// Decodes the value from parsed JSON.
    init(json: JSONValue) throws(MessageDecodingError)
    /// The value as JSON, members in the reference order.
    var json: JSONValue { get }
}

extension JSONRepresentable where Self: Decodable {
    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }
}

extension JSONRepresentable where Self: Encodable {
    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }
}

extension JSONRepresentable {
    /// Parses and decodes JSON text.
    public init(jsonBytes: some Collection<UInt8>) throws(X402DecodingError) {
        let value: JSONValue
        do { value = try JSONValue(parsing: jsonBytes) } catch { throw .invalidJSON(error) }
        do { try self.init(json: value) } catch { throw .invalidMessage(error) }
    }

    /// The compact JSON encoding.
    public func jsonBytes() -> [UInt8] { json.serialized() }
}

/// Reads the members of a JSON object with path-qualified errors.
struct JSONReader {
    let object: JSONObject
    let path: String

    init(_ value: JSONValue, path: String = "") throws(MessageDecodingError) {
        guard case .object(let o) = value else {
            throw MessageDecodingError(path: path, problem: .wrongType(expected: "an object", found: value.typeName))
        }
        self.object = o
        self.path = path
    }

    func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The member, treating JSON `null` as absent.
    func value(_ key: String) -> JSONValue? {
        guard let v = object[key], !v.isNull else { return nil }
        return v
    }

    func required(_ key: String) throws(MessageDecodingError) -> JSONValue {
        guard let v = value(key) else { throw MessageDecodingError(path: childPath(key), problem: .missingField) }
        return v
    }

    private func wrongType(_ key: String, _ expected: String, _ v: JSONValue) -> MessageDecodingError {
        MessageDecodingError(path: childPath(key), problem: .wrongType(expected: expected, found: v.typeName))
    }

    func string(_ key: String) throws(MessageDecodingError) -> String {
        let v = try required(key)
        guard let s = v.stringValue else { throw wrongType(key, "a string", v) }
        return s
    }

    func optionalString(_ key: String) throws(MessageDecodingError) -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.stringValue else { throw wrongType(key, "a string", v) }
        return s
    }

    func int(_ key: String) throws(MessageDecodingError) -> Int {
        let v = try required(key)
        guard let i = v.intValue else { throw wrongType(key, "an integer", v) }
        return i
    }

    func optionalInt(_ key: String) throws(MessageDecodingError) -> Int? {
        guard let v = value(key) else { return nil }
        guard let i = v.intValue else { throw wrongType(key, "an integer", v) }
        return i
    }

    func bool(_ key: String) throws(MessageDecodingError) -> Bool {
        let v = try required(key)
        guard let b = v.boolValue else { throw wrongType(key, "a boolean", v) }
        return b
    }

    func object(_ key: String) throws(MessageDecodingError) -> JSONObject {
        let v = try required(key)
        guard let o = v.objectValue else { throw wrongType(key, "an object", v) }
        return o
    }

    func optionalObject(_ key: String) throws(MessageDecodingError) -> JSONObject? {
        guard let v = value(key) else { return nil }
        guard let o = v.objectValue else { throw wrongType(key, "an object", v) }
        return o
    }

    func array(_ key: String) throws(MessageDecodingError) -> [JSONValue] {
        let v = try required(key)
        guard let a = v.arrayValue else { throw wrongType(key, "an array", v) }
        return a
    }

    func optionalArray(_ key: String) throws(MessageDecodingError) -> [JSONValue]? {
        guard let v = value(key) else { return nil }
        guard let a = v.arrayValue else { throw wrongType(key, "an array", v) }
        return a
    }

    /// Decodes each element of an array member.
    func list<T>(_ key: String, _ decode: (JSONValue, String) throws(MessageDecodingError) -> T) throws(MessageDecodingError) -> [T] {
        let items = try array(key)
        var result: [T] = []
        result.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            result.append(try decode(item, "\(childPath(key))[\(i)]"))
        }
        return result
    }

    /// The members not in `known`, in order (preserved so values echo back unchanged).
    func unknownMembers(known: Set<String>) -> JSONObject {
        var rest = JSONObject()
        for (k, v) in object where !known.contains(k) { rest.appendUnchecked(k, v) }
        return rest
    }
}

/// Builds a JSON object in a fixed member order, omitting absent optionals.
struct JSONWriter {
    var object = JSONObject()

    mutating func set(_ key: String, _ value: JSONValue) { object.appendUnchecked(key, value) }
    mutating func set(_ key: String, _ value: String) { object.appendUnchecked(key, .string(value)) }
    mutating func set(_ key: String, _ value: Int) { object.appendUnchecked(key, .number(JSONNumber(value))) }
    mutating func set(_ key: String, _ value: Bool) { object.appendUnchecked(key, .bool(value)) }
    mutating func set(_ key: String, _ value: JSONObject) { object.appendUnchecked(key, .object(value)) }
    mutating func setIfPresent(_ key: String, _ value: String?) { if let value { set(key, value) } }
    mutating func setIfPresent(_ key: String, _ value: Int?) { if let value { set(key, value) } }
    mutating func setIfPresent(_ key: String, _ value: JSONObject?) { if let value { set(key, value) } }
    mutating func setIfPresent(_ key: String, _ value: JSONValue?) { if let value { set(key, value) } }

    /// Appends members not already present (unknown members kept from decoding).
    mutating func append(_ extra: JSONObject) {
        for (k, v) in extra where object[k] == nil { object.appendUnchecked(k, v) }
    }

    var value: JSONValue { .object(object) }
}
