import Foundation
public import X402

/// EIP-712 typed data in the `eth_signTypedData_v4` JSON shape:
/// `{"types": {...}, "primaryType": "...", "domain": {...}, "message": {...}}`.
///
/// Supports nested structs, struct and atomic arrays (dynamic `T[]` and fixed `T[k]`, nested),
/// `bytes`, `string`, `bool`, `address`, every `uint<N>`/`int<N>` and `bytes1`…`bytes32`.
/// Integers may be JSON numbers or strings (decimal, or `0x` hex for non-negative values).
///
/// The JSON is read with the core parser (`X402/JSONValue/init(parsing:maximumDepth:)`), which keeps
/// every number's literal text, so integers above 2^53 are hashed exactly.
public struct TypedData: Sendable, Hashable {
    /// One member of a struct type.
    public struct Field: Sendable, Hashable, Codable {
        public var name: String
        public var type: String

        public init(name: String, type: String) {
            self.name = name
            self.type = type
        }
    }

    /// Struct definitions by name (may include `EIP712Domain`).
    public var types: [String: [Field]]
    public var primaryType: String
    /// The domain object (`name`, `version`, `chainId`, `verifyingContract`, `salt`; any subset).
    public var domain: JSONValue
    /// The message object.
    public var message: JSONValue

    /// Creates typed data from its four parts; nothing is checked until it is hashed.
    ///
    /// - Parameters:
    ///   - types: Struct definitions by name (may include `EIP712Domain`).
    ///   - primaryType: The struct type of `message`.
    ///   - domain: The domain object.
    ///   - message: The message object.
    public init(types: [String: [Field]], primaryType: String, domain: JSONValue, message: JSONValue) {
        self.types = types
        self.primaryType = primaryType
        self.domain = domain
        self.message = message
    }

    /// The deepest nesting of arrays and objects accepted when parsing typed-data JSON.
    public static let maximumDepth = 128

    /// Parses `eth_signTypedData_v4` JSON. Numbers are kept exactly (no floating-point rounding).
    ///
    /// - Parameter json: UTF-8 JSON text (RFC 8259; duplicate keys and nesting beyond ``maximumDepth``
    ///   are rejected).
    /// - Throws: ``TypedDataError/invalidJSON(_:)`` if the text is not JSON, or
    ///   ``TypedDataError/invalidStructure(_:)`` if it lacks the `eth_signTypedData_v4` shape.
    public init(json: some Collection<UInt8>) throws(TypedDataError) {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: json, maximumDepth: Self.maximumDepth)
        } catch {
            throw .invalidJSON(error)
        }
        try self.init(value: value)
    }

    /// Parses `eth_signTypedData_v4` JSON text.
    ///
    /// - Parameter text: The JSON text.
    /// - Throws: ``TypedDataError/invalidJSON(_:)`` or ``TypedDataError/invalidStructure(_:)``.
    public init(json text: String) throws(TypedDataError) {
        try self.init(json: Array(text.utf8))
    }

    /// Reads the four members from an already parsed JSON object.
    ///
    /// - Parameter value: The `{"types", "primaryType", "domain", "message"}` object.
    /// - Throws: ``TypedDataError/invalidStructure(_:)`` when a member is missing or of the wrong JSON type.
    public init(value: JSONValue) throws(TypedDataError) {
        guard case let .object(root) = value else { throw .invalidStructure("typed data must be a JSON object") }
        guard case let .object(typeMembers)? = root["types"] else { throw .invalidStructure("missing or invalid \"types\" object") }
        guard case let .string(primaryType)? = root["primaryType"] else {
            throw .invalidStructure("missing or invalid \"primaryType\" string")
        }
        guard let domain = root["domain"], case .object = domain else { throw .invalidStructure("missing or invalid \"domain\" object") }
        guard let message = root["message"], case .object = message else {
            throw .invalidStructure("missing or invalid \"message\" object")
        }
        var types: [String: [Field]] = [:]
        for (name, definition) in typeMembers {
            guard case let .array(entries) = definition else { throw .invalidStructure("type \(name) must be an array of fields") }
            var fields: [Field] = []
            for entry in entries {
                guard case let .string(fieldName)? = entry["name"], case let .string(fieldType)? = entry["type"] else {
                    throw .invalidStructure("type \(name) has a field without string \"name\" and \"type\"")
                }
                fields.append(Field(name: fieldName, type: fieldType))
            }
            types[name] = fields
        }
        self.init(types: types, primaryType: primaryType, domain: domain, message: message)
    }

    /// The JSON object form: `types` (with `EIP712Domain` first, then by name), `primaryType`,
    /// `domain`, `message`. Serialize it with `X402/JSONValue/serialized()`.
    public var jsonValue: JSONValue {
        var typeMembers = JSONObject()
        let names = types.keys.sorted { lhs, rhs in
            if lhs == "EIP712Domain" || rhs == "EIP712Domain" { return lhs == "EIP712Domain" && rhs != lhs }
            return Array(lhs.utf8).lexicographicallyPrecedes(Array(rhs.utf8))
        }
        for name in names {
            typeMembers[name] = .array((types[name] ?? []).map { .object(["name": .string($0.name), "type": .string($0.type)]) })
        }
        return .object([
            "types": .object(typeMembers), "primaryType": .string(primaryType), "domain": domain, "message": message,
        ])
    }

    // MARK: Hashing

    /// The `EIP712Domain` fields: `types.EIP712Domain` if given (its field names must match the domain's
    /// keys), otherwise derived from the domain's keys in canonical order.
    public func domainFields() throws(TypedDataError) -> [Field] {
        guard case let .object(members) = domain else { throw .invalidStructure("domain must be an object") }
        if let declared = types["EIP712Domain"] {
            let declaredNames = Set(declared.map(\.name))
            guard declaredNames == Set(members.keys) else {
                throw .domainMismatch(declared: declared.map(\.name).sorted(), present: members.keys.sorted())
            }
            return declared
        }
        var fields: [Field] = []
        for field in EIP712Domain.canonicalFields where members[field.name] != nil {
            fields.append(field)
        }
        guard fields.count == members.count else {
            throw .domainMismatch(declared: fields.map(\.name), present: members.keys.sorted())
        }
        return fields
    }

    /// The separator via the cached `EIP712Domain` fast path when the declared domain type is canonical.
    private func domainSeparator(using encoder: TypedDataEncoder) throws(TypedDataError) -> Bytes32 {
        let fields = encoder.types["EIP712Domain"] ?? []
        if let fast = try? EIP712Domain(domain), fast.fields == fields {
            return fast.separator
        }
        return try encoder.hashStruct("EIP712Domain", domain, path: "domain")
    }

    private func typesWithDomain() throws(TypedDataError) -> [String: [Field]] {
        var all = types
        all["EIP712Domain"] = try domainFields()
        return all
    }

    /// `hashStruct(EIP712Domain, domain)`.
    public func domainSeparator() throws(TypedDataError) -> Bytes32 {
        if types["EIP712Domain"] == nil {
            // No declared domain type: the canonical fast path gives the same bytes (and is cached).
            return try EIP712Domain(domain).separator
        }
        let encoder = TypedDataEncoder(types: try typesWithDomain())
        return try encoder.hashStruct("EIP712Domain", domain, path: "domain")
    }

    /// `hashStruct(primaryType, message)`.
    public func structHash() throws(TypedDataError) -> Bytes32 {
        let encoder = TypedDataEncoder(types: try typesWithDomain())
        return try encoder.hashStruct(primaryType, message, path: "message")
    }

    /// The encoded type string of `typeName`, e.g. `Mail(Person from,Person to,string contents)Person(…)`.
    public func encodeType(_ typeName: String) throws(TypedDataError) -> String {
        try TypedDataEncoder(types: try typesWithDomain()).encodeType(typeName)
    }

    /// keccak256 of ``encodeType(_:)``.
    public func typeHash(_ typeName: String) throws(TypedDataError) -> Bytes32 {
        Keccak256.hash(utf8: try encodeType(typeName))
    }

    /// `keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct(message))` (just the domain when `primaryType` is `EIP712Domain`).
    public func digest() throws(TypedDataError) -> Bytes32 {
        let encoder = TypedDataEncoder(types: try typesWithDomain())
        let separator = try domainSeparator(using: encoder)
        if primaryType == "EIP712Domain" {
            var prefix: [UInt8] = [0x19, 0x01]
            prefix.append(contentsOf: separator.bytes)
            return Keccak256.hash(prefix)
        }
        return EIP712.digest(domainSeparator: separator, structHash: try encoder.hashStruct(primaryType, message, path: "message"))
    }

    /// Signs the digest (`eth_signTypedData_v4`).
    public func sign(with key: PrivateKey) throws(TypedDataError) -> Signature {
        key.sign(digest: try digest())
    }

    /// The address whose key produced `signature` over this typed data.
    public func recoverSigner(of signature: Signature) throws(TypedDataError) -> EthereumAddress {
        let digest = try digest()
        do {
            return try signature.recoverSigner(digest: digest)
        } catch {
            throw .signature(error)
        }
    }
}

extension TypedData: Codable {
    private enum CodingKeys: String, CodingKey {
        case types, primaryType, domain, message
    }

    /// Decodes the `eth_signTypedData_v4` shape. Integers in `domain` and `message` beyond `Int64`
    /// are read as `UInt64` or `Decimal` (about 38 digits), not `Double`; use `init(json:)`
    /// where every digit of a `uint256` written as a JSON number matters.
    ///
    /// - Parameter decoder: The decoder to read from.
    /// - Throws: `DecodingError` when a member is missing or not JSON.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            types: try container.decode([String: [Field]].self, forKey: .types),
            primaryType: try container.decode(String.self, forKey: .primaryType),
            domain: try container.decode(ExactCodableJSON.self, forKey: .domain).value,
            message: try container.decode(ExactCodableJSON.self, forKey: .message).value
        )
    }

    /// Encodes the `eth_signTypedData_v4` shape; integer literals beyond `Int64` are written as
    /// `UInt64` or `Decimal` so they are not rounded through `Double`.
    ///
    /// - Parameter encoder: The encoder to write to.
    /// - Throws: Whatever the encoder throws.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(types, forKey: .types)
        try container.encode(primaryType, forKey: .primaryType)
        try container.encode(ExactCodableJSON(domain), forKey: .domain)
        try container.encode(ExactCodableJSON(message), forKey: .message)
    }
}

/// A ``X402/JSONValue`` through `Codable` with integers kept as exact as the coder allows: `Int64`,
/// then `UInt64`, then `Decimal`, never `Double` (which rounds integers above 2^53).
private struct ExactCodableJSON: Codable {
    var value: JSONValue

    init(_ value: JSONValue) {
        self.value = value
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: Key.self) {
            var object = JSONObject()
            for key in keyed.allKeys {
                object[key.stringValue] = try keyed.decode(ExactCodableJSON.self, forKey: key).value
            }
            value = .object(object)
            return
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            var elements: [JSONValue] = []
            while !unkeyed.isAtEnd { elements.append(try unkeyed.decode(ExactCodableJSON.self).value) }
            value = .array(elements)
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            value = .null
        } else if let flag = try? container.decode(Bool.self) {
            value = .bool(flag)
        } else if let text = try? container.decode(String.self) {
            value = .string(text)
        } else if let number = try? container.decode(Int64.self) {
            value = .number(JSONNumber(number))
        } else if let number = try? container.decode(UInt64.self) {
            value = .number(JSONNumber(number))
        } else if let number = try? container.decode(Decimal.self), let literal = JSONNumber(literal: "\(number)") {
            value = .number(literal)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unsupported JSON value")
        }
    }

    func encode(to encoder: any Encoder) throws {
        switch value {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case let .bool(flag):
            var container = encoder.singleValueContainer()
            try container.encode(flag)
        case let .number(number):
            var container = encoder.singleValueContainer()
            if let exact = Int64(number.literal) {
                try container.encode(exact)
            } else if let exact = UInt64(number.literal) {
                try container.encode(exact)
            } else if let decimal = Decimal(string: number.literal) {
                try container.encode(decimal)
            } else {
                try container.encode(number.literal)
            }
        case let .string(text):
            var container = encoder.singleValueContainer()
            try container.encode(text)
        case let .array(elements):
            var container = encoder.unkeyedContainer()
            for element in elements { try container.encode(ExactCodableJSON(element)) }
        case let .object(object):
            var container = encoder.container(keyedBy: Key.self)
            for (key, member) in object { try container.encode(ExactCodableJSON(member), forKey: Key(key)) }
        }
    }
}

/// Why typed data could not be parsed or hashed.
public enum TypedDataError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text is not valid JSON (the core parser's error, with the byte offset).
    case invalidJSON(JSONParseError)
    /// The JSON does not have the `eth_signTypedData_v4` shape.
    case invalidStructure(String)
    /// A field's type is neither an EIP-712 atomic type nor a struct defined in `types`.
    case undefinedType(String)
    /// A struct field has no value in the message (`path` like `message.permitted.amount`).
    case missingValue(path: String)
    /// A value does not fit its declared type.
    case invalidValue(path: String, type: String, reason: String)
    /// A fixed-size array has the wrong number of elements.
    case arrayLengthMismatch(path: String, expected: Int, actual: Int)
    /// `types.EIP712Domain` and the domain object disagree on which fields exist.
    case domainMismatch(declared: [String], present: [String])
    /// The signature is malformed or does not recover.
    case signature(SignatureError)

    public var description: String {
        switch self {
        case let .invalidJSON(error): "typed data is not valid JSON: \(error)"
        case let .invalidStructure(reason): "invalid typed data: \(reason)"
        case let .undefinedType(type): "typed data uses undefined type \"\(type)\""
        case let .missingValue(path): "typed data has no value for \(path)"
        case let .invalidValue(path, type, reason): "typed data value \(path) is not a valid \(type): \(reason)"
        case let .arrayLengthMismatch(path, expected, actual): "typed data array \(path) must have \(expected) elements, has \(actual)"
        case let .domainMismatch(declared, present):
            "EIP712Domain type fields [\(declared.joined(separator: ", "))] do not match domain keys [\(present.joined(separator: ", "))]"
        case let .signature(error): "typed data signature: \(error)"
        }
    }
}

/// EIP-712 hashing helpers shared by the generic encoder and the typed fast paths.
public enum EIP712 {
    /// `keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ structHash)`.
    public static func digest(domainSeparator: Bytes32, structHash: Bytes32) -> Bytes32 {
        withUnsafeTemporaryAllocation(byteCount: 66, alignment: 8) { buffer in
            buffer[0] = 0x19
            buffer[1] = 0x01
            domainSeparator.withUnsafeBytes { buffer.baseAddress!.advanced(by: 2).copyMemory(from: $0.baseAddress!, byteCount: 32) }
            structHash.withUnsafeBytes { buffer.baseAddress!.advanced(by: 34).copyMemory(from: $0.baseAddress!, byteCount: 32) }
            return Keccak256.hash(UnsafeRawBufferPointer(buffer))
        }
    }

    /// keccak256 of `count` 32-byte words written by `fill` into a stack buffer.
    @inlinable
    static func hashWords(_ count: Int, _ fill: (inout WordWriter) -> Void) -> Bytes32 {
        withUnsafeTemporaryAllocation(byteCount: count * 32, alignment: 8) { buffer in
            var writer = WordWriter(buffer: buffer)
            fill(&writer)
            precondition(writer.index == count)
            return Keccak256.hash(UnsafeRawBufferPointer(buffer))
        }
    }

    /// Writes consecutive 32-byte words.
    @usableFromInline
    struct WordWriter {
        @usableFromInline let buffer: UnsafeMutableRawBufferPointer
        @usableFromInline var index = 0

        @inlinable init(buffer: UnsafeMutableRawBufferPointer) {
            self.buffer = buffer
        }

        @inlinable mutating func append(_ word: Bytes32) {
            word.withUnsafeBytes { buffer.baseAddress!.advanced(by: index * 32).copyMemory(from: $0.baseAddress!, byteCount: 32) }
            index += 1
        }

        @inlinable mutating func append(_ value: UInt256) {
            value.writeBigEndian(to: UnsafeMutableRawBufferPointer(rebasing: buffer[(index * 32)..<(index * 32 + 32)]))
            index += 1
        }

        @inlinable mutating func append(_ address: EthereumAddress) {
            append(address.word)
        }
    }
}
