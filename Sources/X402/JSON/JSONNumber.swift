/// A JSON number kept as its literal text, so `60` stays `60` and `1e3` stays `1e3` on output.
///
/// Two numbers are equal when they denote the same decimal value (`60 == 60.0 == 6e1`); the
/// comparison is exact, with no floating-point rounding.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The number's text exactly as it appears (or will appear) in JSON.
    public let literal: String

    /// Creates a number from JSON number text; `nil` unless it matches the JSON number grammar and
    /// its exponent's magnitude is at most ``maximumExponentMagnitude``.
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
        // Compared without arithmetic on the exponent, so no value of it can overflow.
        guard d.exponent >= 0, d.digits.utf8.count <= 19, d.exponent <= 19 - d.digits.utf8.count else { return nil }
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
        // Every stored literal is valid, so `decimal` is never `nil`; if it were, the texts differ.
        guard let l = lhs.decimal, let r = rhs.decimal else { return false }
        return l == r
    }

    public func hash(into hasher: inout Hasher) {
        if let d = decimal {
            hasher.combine(d)
        } else {
            hasher.combine(literal)
        }
    }

    /// The largest exponent magnitude a number literal may carry: `1e10000` and `1e-10000` are
    /// accepted, `1e10001` is not (it is a parse error, not a number).
    ///
    /// The bound keeps every computation on the exponent exact and far from `Int`'s range, and no
    /// x402 value (amounts are strings, versions and timeouts are small integers) comes close to it.
    public static let maximumExponentMagnitude = 10_000

    /// The normalised exact value: sign, significant digits without leading/trailing zeros, and a
    /// power-of-ten exponent. Zero is `(false, "", 0)`.
    struct Decimal: Hashable {
        var negative: Bool
        var digits: String
        var exponent: Int
    }

    /// The exact value of ``literal``; `nil` only if the literal is not a valid number (which the
    /// initialisers rule out). The work is linear in the literal's length and no arithmetic traps.
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
                if inFraction { fractionDigits += 1 }  // at most the literal's length
            } else if c == UInt8(ascii: ".") {
                inFraction = true
            } else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                guard let e = Self.boundedExponent(bytes[bytes.index(after: index)...]) else { return nil }
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
        // |exponent| ≤ 10 000 and both counts are bounded by the literal's length, but the
        // arithmetic reports overflow anyway rather than trusting that.
        let (shifted, o1) = exponent.subtractingReportingOverflow(fractionDigits)
        let (normalised, o2) = shifted.addingReportingOverflow(trailing)
        guard !o1, !o2 else { return nil }
        return Decimal(negative: negative, digits: digits, exponent: normalised)
    }

    /// Reads an exponent (`[+-]?[0-9]+`, leading zeros allowed); `nil` if malformed or if its
    /// magnitude exceeds ``maximumExponentMagnitude``. Never overflows: it stops as soon as the
    /// running value passes the bound.
    static func boundedExponent(_ utf8: some Collection<UInt8>) -> Int? {
        var it = utf8.makeIterator()
        var c = it.next()
        var negative = false
        if c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
            negative = c == UInt8(ascii: "-")
            c = it.next()
        }
        guard c != nil else { return nil }
        var value = 0
        while let d = c {
            guard d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(d - UInt8(ascii: "0"))
            if value > maximumExponentMagnitude { return nil }
            c = it.next()
        }
        return negative ? -value : value
    }

    /// How a candidate literal fares against the grammar and the exponent bound.
    enum LiteralCheck: Equatable {
        case valid
        /// Not RFC 8259 number text.
        case malformed
        /// Number text whose exponent magnitude exceeds ``JSONNumber/maximumExponentMagnitude``.
        case exponentOutOfRange
    }

    /// Checks the RFC 8259 number grammar and the exponent bound.
    static func isValidLiteral(_ utf8: some Collection<UInt8>) -> Bool {
        checkLiteral(utf8) == .valid
    }

    /// Checks the RFC 8259 number grammar, `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`,
    /// and that the exponent's magnitude is at most ``maximumExponentMagnitude``.
    static func checkLiteral(_ utf8: some Collection<UInt8>) -> LiteralCheck {
        var it = utf8.makeIterator()
        var c = it.next()
        if c == UInt8(ascii: "-") { c = it.next() }
        guard let first = c else { return .malformed }
        if first == UInt8(ascii: "0") {
            c = it.next()
        } else if first >= UInt8(ascii: "1") && first <= UInt8(ascii: "9") {
            c = it.next()
            while let d = c, d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") { c = it.next() }
        } else {
            return .malformed
        }
        if c == UInt8(ascii: ".") {
            c = it.next()
            guard let d = c, d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") else { return .malformed }
            while let d = c, d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") { c = it.next() }
        }
        if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            c = it.next()
            if c == UInt8(ascii: "+") || c == UInt8(ascii: "-") { c = it.next() }
            guard let d = c, d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") else { return .malformed }
            var magnitude = 0
            var tooLarge = false
            while let d = c, d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") {
                if !tooLarge {
                    magnitude = magnitude * 10 + Int(d - UInt8(ascii: "0"))
                    tooLarge = magnitude > maximumExponentMagnitude
                }
                c = it.next()
            }
            guard c == nil else { return .malformed }
            return tooLarge ? .exponentOutOfRange : .valid
        }
        return c == nil ? .valid : .malformed
    }
}
