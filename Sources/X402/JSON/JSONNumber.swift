/// A JSON number kept as its literal text, so `60` stays `60` and `1e3` stays `1e3` on output.
///
/// Two numbers are equal when they denote the same decimal value (`60 == 60.0 == 6e1`); the
/// comparison is exact, with no floating-point rounding.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The number's text exactly as it appears (or will appear) in JSON.
    public let literal: String

    /// Creates a number from JSON number text; `nil` unless it matches the JSON number grammar.
    public init?(literal: String) {
        guard JSONNumber.isValidLiteral(literal.utf8) else { return nil }
        self.literal = literal
    }

    /// Creates a number from text already validated by the parser.
    init(uncheckedLiteral: String) { self.literal = uncheckedLiteral }

    public init(_ value: Int) { literal = String(value) }
    public init(_ value: Int64) { literal = String(value) }
    public init(_ value: UInt64) { literal = String(value) }

    /// Creates a number from a finite `Double` using its shortest round-trip text; `nil` for NaN/∞.
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        if value == value.rounded(), abs(value) < 1e15 {
            literal = String(Int64(value))
        } else {
            literal = "\(value)"
        }
    }

    public var description: String { literal }

    /// The value as `Int` if it is integral and fits (`60.0` and `6e1` count as integral).
    public var intValue: Int? {
        if let v = Int(literal) { return v }
        guard let d = decimal else { return nil }
        if d.digits.isEmpty { return 0 }
        guard d.exponent >= 0, d.exponent + d.digits.count <= 19 else { return nil }
        var text = d.digits + String(repeating: "0", count: d.exponent)
        if d.negative { text = "-" + text }
        return Int(text)
    }

    /// The value as `Int64` if it is integral and fits.
    public var int64Value: Int64? { intValue.map(Int64.init) }

    /// The value as `UInt64` if it is integral, non-negative and fits.
    public var uint64Value: UInt64? {
        if let v = UInt64(literal) { return v }
        return intValue.flatMap { $0 >= 0 ? UInt64($0) : nil }
    }

    /// The nearest `Double` (may round).
    public var doubleValue: Double { Double(literal) ?? .nan }

    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        if lhs.literal == rhs.literal { return true }
        return lhs.decimal == rhs.decimal
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(decimal)
    }

    /// The normalised exact value: sign, significant digits without leading/trailing zeros, and a
    /// power-of-ten exponent. Zero is `(false, "", 0)`.
    struct Decimal: Hashable {
        var negative: Bool
        var digits: String
        var exponent: Int
    }

    var decimal: Decimal? {
        var bytes = Substring(literal).utf8[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") {
            negative = true
            bytes = bytes.dropFirst()
        }
        var mantissa: [UInt8] = []
        var fractionDigits = 0
        var inFraction = false
        var exponent = 0
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let c = bytes[index]
            if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                mantissa.append(c)
                if inFraction { fractionDigits += 1 }
            } else if c == UInt8(ascii: ".") {
                inFraction = true
            } else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                let rest = String(Substring(bytes[bytes.index(after: index)...]))
                guard let e = Int(rest.hasPrefix("+") ? String(rest.dropFirst()) : rest) else { return nil }
                exponent = e
                break
            } else {
                return nil
            }
            index = bytes.index(after: index)
        }
        // Strip leading zeros.
        var start = 0
        while start < mantissa.count && mantissa[start] == UInt8(ascii: "0") { start += 1 }
        var end = mantissa.count
        var trailing = 0
        while end > start && mantissa[end - 1] == UInt8(ascii: "0") {
            end -= 1
            trailing += 1
        }
        if start == end { return Decimal(negative: false, digits: "", exponent: 0) }
        let digits = String(decoding: mantissa[start..<end], as: UTF8.self)
        return Decimal(negative: negative, digits: digits, exponent: exponent - fractionDigits + trailing)
    }

    /// Checks the RFC 8259 number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    static func isValidLiteral(_ utf8: some Collection<UInt8>) -> Bool {
        var it = utf8.makeIterator()
        var c = it.next()
        if c == UInt8(ascii: "-") { c = it.next() }
        guard let first = c else { return false }
        if first == UInt8(ascii: "0") {
            c = it.next()
        } else if first >= UInt8(ascii: "1") && first <= UInt8(ascii: "9") {
            c = it.next()
            while let d = c, d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") { c = it.next() }
        } else {
            return false
        }
        if c == UInt8(ascii: ".") {
            c = it.next()
            guard let d = c, d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") else { return false }
            while let d = c, d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") { c = it.next() }
        }
        if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            c = it.next()
            if c == UInt8(ascii: "+") || c == UInt8(ascii: "-") { c = it.next() }
            guard let d = c, d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") else { return false }
            while let d = c, d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") { c = it.next() }
        }
        return c == nil
    }
}
