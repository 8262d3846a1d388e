/// A Solidity ABI type, parsed from its canonical text such as `"(address,uint256)[]"`.
public indirect enum ABIType: Sendable, Hashable, CustomStringConvertible {
    /// `uint<bits>`, bits ∈ {8, 16, …, 256}.
    case uint(Int)
    /// `int<bits>`, bits ∈ {8, 16, …, 256}.
    case int(Int)
    case address
    case bool
    /// `bytes<count>`, count ∈ 1…32.
    case fixedBytes(Int)
    case bytes
    case string
    /// `T[]`.
    case array(ABIType)
    /// `T[count]`.
    case fixedArray(ABIType, Int)
    /// `(T1,T2,…)`.
    case tuple([ABIType])

    /// Parses canonical type text (`uint`/`int` are accepted as aliases of `uint256`/`int256`).
    public init(_ text: some StringProtocol) throws(ABIError) {
        var parser = ABITypeParser(Array(text.utf8))
        let type = try parser.parseType()
        guard parser.isAtEnd else { throw .invalidType(String(text)) }
        self = type
    }

    /// Parses a parameter list such as `"(address,uint256)"` or `"address,uint256"` into its types.
    public static func parameterList(_ text: some StringProtocol) throws(ABIError) -> [ABIType] {
        let trimmed = text.hasPrefix("(") ? String(text) : "(\(text))"
        guard case let .tuple(types) = try ABIType(trimmed) else { throw .invalidType(String(text)) }
        return types
    }

    /// Canonical text, e.g. `(address,bytes)[]`.
    public var description: String {
        switch self {
        case let .uint(bits): "uint\(bits)"
        case let .int(bits): "int\(bits)"
        case .address: "address"
        case .bool: "bool"
        case let .fixedBytes(count): "bytes\(count)"
        case .bytes: "bytes"
        case .string: "string"
        case let .array(element): "\(element)[]"
        case let .fixedArray(element, count): "\(element)[\(count)]"
        case let .tuple(elements): "(" + elements.map(\.description).joined(separator: ",") + ")"
        }
    }

    /// Whether the encoding has a dynamic size (is referenced by an offset in its parent).
    public var isDynamic: Bool {
        switch self {
        case .bytes, .string, .array: true
        case let .fixedArray(element, _): element.isDynamic
        case let .tuple(elements): elements.contains { $0.isDynamic }
        default: false
        }
    }

    /// Bytes this type occupies in its parent's head: 32 for dynamic types, the full size for static
    /// ones. Saturates at `Int.max` (no data is that long) instead of overflowing, so a type such as
    /// `uint256[1000000][1000000][1000000]` is simply too large for any input.
    public var headSize: Int {
        switch self {
        case _ where isDynamic: 32
        case let .fixedArray(element, count): Self.saturating(element.headSize.multipliedReportingOverflow(by: count))
        case let .tuple(elements): elements.reduce(0) { Self.saturating($0.addingReportingOverflow($1.headSize)) }
        default: 32
        }
    }

    private static func saturating(_ result: (partialValue: Int, overflow: Bool)) -> Int {
        result.overflow ? .max : result.partialValue
    }

    /// The deepest nesting of tuples and array suffixes the type parser accepts.
    public static let maximumNesting = 32
}

struct ABITypeParser {
    let text: [UInt8]
    var index = 0
    /// Tuples and array suffixes enclosing the type being parsed (bounded, so recursion is too).
    var depth = 0

    init(_ text: [UInt8]) {
        self.text = text
    }

    var isAtEnd: Bool { index == text.count }

    private var description: String { String(decoding: text, as: UTF8.self) }

    mutating func parseType() throws(ABIError) -> ABIType {
        var type: ABIType
        if index < text.count, text[index] == UInt8(ascii: "(") {
            depth += 1
            guard depth <= ABIType.maximumNesting else { throw .invalidType(description) }
            defer { depth -= 1 }
            index += 1
            var elements: [ABIType] = []
            if index < text.count, text[index] == UInt8(ascii: ")") {
                index += 1
            } else {
                while true {
                    elements.append(try parseType())
                    guard index < text.count else { throw .invalidType(description) }
                    if text[index] == UInt8(ascii: ",") {
                        index += 1
                    } else if text[index] == UInt8(ascii: ")") {
                        index += 1
                        break
                    } else {
                        throw .invalidType(description)
                    }
                }
            }
            type = .tuple(elements)
        } else {
            let start = index
            while index < text.count, isIdentifier(text[index]) { index += 1 }
            type = try Self.elementary(String(decoding: text[start..<index], as: UTF8.self), in: description)
        }
        var suffixes = 0
        while index < text.count, text[index] == UInt8(ascii: "[") {
            suffixes += 1
            guard depth + suffixes <= ABIType.maximumNesting else { throw .invalidType(description) }
            index += 1
            let start = index
            while index < text.count, text[index] >= 0x30, text[index] <= 0x39 { index += 1 }
            guard index < text.count, text[index] == UInt8(ascii: "]") else { throw .invalidType(description) }
            if start == index {
                type = .array(type)
            } else {
                let digits = String(decoding: text[start..<index], as: UTF8.self)
                guard digits.first != "0", let count = Int(digits), count > 0, count <= 1_000_000 else {
                    throw .invalidType(description)
                }
                type = .fixedArray(type, count)
            }
            index += 1
        }
        return type
    }

    private func isIdentifier(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
    }

    static func elementary(_ name: String, in text: String) throws(ABIError) -> ABIType {
        switch name {
        case "address": return .address
        case "bool": return .bool
        case "bytes": return .bytes
        case "string": return .string
        case "uint": return .uint(256)
        case "int": return .int(256)
        default: break
        }
        func width(_ prefix: String) -> Int? {
            guard name.hasPrefix(prefix) else { return nil }
            let digits = name.dropFirst(prefix.count)
            guard !digits.isEmpty, digits.first != "0", let value = Int(digits) else { return nil }
            return value
        }
        if let bits = width("uint"), bits % 8 == 0, (8...256).contains(bits) { return .uint(bits) }
        if let bits = width("int"), bits % 8 == 0, (8...256).contains(bits) { return .int(bits) }
        if let count = width("bytes"), (1...32).contains(count) { return .fixedBytes(count) }
        throw .invalidType(text)
    }
}
