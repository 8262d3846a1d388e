import Foundation

/// A 256-bit unsigned integer for token amounts and ABI values.
///
/// Stored as four 64-bit limbs (least significant first); no heap allocation. Arithmetic
/// operators trap on overflow like Swift's built-in integers; use the `…ReportingOverflow`
/// methods or the `&+ &- &*` wrapping operators when overflow is expected. Decimal and
/// hexadecimal string conversions are exact.
///
/// `Codable` representation is a JSON decimal string (`"10000"`); decoding also accepts a JSON
/// integer number that fits in `UInt64`.
public struct UInt256: Sendable, Hashable {
    /// Limbs, least significant first.
    @usableFromInline internal var w0: UInt64
    @usableFromInline internal var w1: UInt64
    @usableFromInline internal var w2: UInt64
    @usableFromInline internal var w3: UInt64

    @inlinable
    internal init(limbs w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// Creates a value from four 64-bit words, least significant first.
    @inlinable
    public init(words: (UInt64, UInt64, UInt64, UInt64)) {
        self.init(limbs: words.0, words.1, words.2, words.3)
    }

    /// The four 64-bit words, least significant first.
    @inlinable
    public var words: (UInt64, UInt64, UInt64, UInt64) { (w0, w1, w2, w3) }

    /// Creates a value equal to `value`.
    @inlinable
    public init(_ value: UInt64) {
        self.init(limbs: value, 0, 0, 0)
    }

    /// Zero.
    public static let zero = UInt256(limbs: 0, 0, 0, 0)
    /// One.
    public static let one = UInt256(limbs: 1, 0, 0, 0)
    /// 2^256 − 1.
    public static let max = UInt256(limbs: .max, .max, .max, .max)

    /// Whether the value is zero.
    @inlinable
    public var isZero: Bool { (w0 | w1 | w2 | w3) == 0 }

    /// The value as a `UInt64`, or `nil` if it does not fit.
    @inlinable
    public var asUInt64: UInt64? { (w1 | w2 | w3) == 0 ? w0 : nil }

    /// Creates a value from any binary integer, or `nil` if it is negative or wider than 256 bits.
    public init?(exactly source: some BinaryInteger) {
        if source.signum() < 0 { return nil }
        var limbs: [UInt64] = [0, 0, 0, 0]
        var bitOffset = 0
        for word in source.words {
            let word64 = UInt64(word)
            if word64 != 0 {
                let limbIndex = bitOffset / 64
                let shift = bitOffset % 64
                guard limbIndex < 4 else { return nil }
                limbs[limbIndex] |= word64 << UInt64(shift)
                if shift != 0 {
                    let carry = word64 >> UInt64(64 - shift)
                    if carry != 0 {
                        guard limbIndex + 1 < 4 else { return nil }
                        limbs[limbIndex + 1] |= carry
                    }
                }
            }
            bitOffset += UInt.bitWidth
        }
        self.init(limbs: limbs[0], limbs[1], limbs[2], limbs[3])
    }

    /// The number of leading zero bits (256 for zero).
    @inlinable
    public var leadingZeroBitCount: Int {
        if w3 != 0 { return w3.leadingZeroBitCount }
        if w2 != 0 { return 64 + w2.leadingZeroBitCount }
        if w1 != 0 { return 128 + w1.leadingZeroBitCount }
        return 192 + w0.leadingZeroBitCount
    }

    /// The number of significant bits (0 for zero).
    @inlinable
    public var bitLength: Int { 256 - leadingZeroBitCount }

    @inlinable
    internal subscript(limb index: Int) -> UInt64 {
        get {
            switch index {
            case 0: return w0
            case 1: return w1
            case 2: return w2
            default: return w3
            }
        }
        set {
            switch index {
            case 0: w0 = newValue
            case 1: w1 = newValue
            case 2: w2 = newValue
            default: w3 = newValue
            }
        }
    }
}

// MARK: - Literals

extension UInt256: ExpressibleByIntegerLiteral {
    /// Accepts literals of any size up to 2^256 − 1; negative or larger literals trap.
    public init(integerLiteral value: StaticBigInt) {
        precondition(value.signum() >= 0, "UInt256 literal must not be negative")
        precondition(value.bitWidth <= 257, "UInt256 literal overflows 256 bits")
        var result = UInt256.zero
        #if _pointerBitWidth(_64)
        for index in 0..<4 {
            result[limb: index] = UInt64(value[index])
        }
        #else
        for index in 0..<4 {
            let low = UInt64(value[2 * index])
            let high = UInt64(value[2 * index + 1])
            result[limb: index] = low | (high << 32)
        }
        #endif
        self = result
    }
}

// MARK: - Comparison

extension UInt256: Comparable {
    @inlinable
    public static func < (lhs: UInt256, rhs: UInt256) -> Bool {
        if lhs.w3 != rhs.w3 { return lhs.w3 < rhs.w3 }
        if lhs.w2 != rhs.w2 { return lhs.w2 < rhs.w2 }
        if lhs.w1 != rhs.w1 { return lhs.w1 < rhs.w1 }
        return lhs.w0 < rhs.w0
    }
}

// MARK: - Arithmetic

extension UInt256 {
    /// Returns the sum and whether it overflowed (the sum is then taken modulo 2^256).
    @inlinable
    public func addingReportingOverflow(_ other: UInt256) -> (partialValue: UInt256, overflow: Bool) {
        let (r0, c0) = w0.addingReportingOverflow(other.w0)
        var (r1, c1) = w1.addingReportingOverflow(other.w1)
        var c1b = false
        if c0 { (r1, c1b) = r1.addingReportingOverflow(1) }
        var (r2, c2) = w2.addingReportingOverflow(other.w2)
        var c2b = false
        if c1 || c1b { (r2, c2b) = r2.addingReportingOverflow(1) }
        var (r3, c3) = w3.addingReportingOverflow(other.w3)
        var c3b = false
        if c2 || c2b { (r3, c3b) = r3.addingReportingOverflow(1) }
        return (UInt256(limbs: r0, r1, r2, r3), c3 || c3b)
    }

    /// Returns the difference and whether it underflowed (the result is then taken modulo 2^256).
    @inlinable
    public func subtractingReportingOverflow(_ other: UInt256) -> (partialValue: UInt256, overflow: Bool) {
        let (r0, b0) = w0.subtractingReportingOverflow(other.w0)
        var (r1, b1) = w1.subtractingReportingOverflow(other.w1)
        var b1b = false
        if b0 { (r1, b1b) = r1.subtractingReportingOverflow(1) }
        var (r2, b2) = w2.subtractingReportingOverflow(other.w2)
        var b2b = false
        if b1 || b1b { (r2, b2b) = r2.subtractingReportingOverflow(1) }
        var (r3, b3) = w3.subtractingReportingOverflow(other.w3)
        var b3b = false
        if b2 || b2b { (r3, b3b) = r3.subtractingReportingOverflow(1) }
        return (UInt256(limbs: r0, r1, r2, r3), b3 || b3b)
    }

    /// Returns the product and whether it overflowed (the product is then taken modulo 2^256).
    @inlinable
    public func multipliedReportingOverflow(by other: UInt256) -> (partialValue: UInt256, overflow: Bool) {
        var result = UInt256.zero
        var overflow = false
        for i in 0..<4 {
            let a = self[limb: i]
            if a == 0 { continue }
            var carry: UInt64 = 0
            for j in 0..<4 {
                let b = other[limb: j]
                let k = i + j
                if k >= 4 {
                    if b != 0 { overflow = true }
                    continue
                }
                let (high, low) = a.multipliedFullWidth(by: b)
                let (sum1, o1) = result[limb: k].addingReportingOverflow(low)
                let (sum2, o2) = sum1.addingReportingOverflow(carry)
                result[limb: k] = sum2
                carry = high &+ (o1 ? 1 : 0) &+ (o2 ? 1 : 0)
            }
            if carry != 0 { overflow = true }
        }
        return (result, overflow)
    }

    /// Multiplies by a 64-bit value, returning the low 256 bits and the overflowing high word.
    @inlinable
    internal func multipliedFullWidth(by factor: UInt64) -> (high: UInt64, low: UInt256) {
        var result = UInt256.zero
        var carry: UInt64 = 0
        for i in 0..<4 {
            let (high, low) = self[limb: i].multipliedFullWidth(by: factor)
            let (sum, overflow) = low.addingReportingOverflow(carry)
            result[limb: i] = sum
            carry = high &+ (overflow ? 1 : 0)
        }
        return (carry, result)
    }

    /// Divides by a non-zero 64-bit value.
    @inlinable
    internal func quotientAndRemainder(dividingByWord divisor: UInt64) -> (quotient: UInt256, remainder: UInt64) {
        precondition(divisor != 0, "Division by zero")
        var quotient = UInt256.zero
        var remainder: UInt64 = 0
        var i = 3
        while i >= 0 {
            let (q, r) = divisor.dividingFullWidth((remainder, self[limb: i]))
            quotient[limb: i] = q
            remainder = r
            i -= 1
        }
        return (quotient, remainder)
    }

    /// Returns the quotient and remainder of dividing by `divisor`. Traps if `divisor` is zero.
    public func quotientAndRemainder(dividingBy divisor: UInt256) -> (quotient: UInt256, remainder: UInt256) {
        precondition(!divisor.isZero, "Division by zero")
        if let small = divisor.asUInt64 {
            let (q, r) = quotientAndRemainder(dividingByWord: small)
            return (q, UInt256(r))
        }
        if self < divisor { return (.zero, self) }
        // Binary long division; the divisor has at least 65 bits so at most 192 iterations.
        let shift = divisor.leadingZeroBitCount - leadingZeroBitCount
        var remainder = self
        var shifted = divisor << shift
        var quotient = UInt256.zero
        var bit = shift
        while bit >= 0 {
            if remainder >= shifted {
                remainder = remainder.subtractingReportingOverflow(shifted).partialValue
                quotient[limb: bit / 64] |= 1 << UInt64(bit % 64)
            }
            shifted = shifted >> 1
            bit -= 1
        }
        return (quotient, remainder)
    }

    @inlinable
    public static func + (lhs: UInt256, rhs: UInt256) -> UInt256 {
        let (value, overflow) = lhs.addingReportingOverflow(rhs)
        precondition(!overflow, "UInt256 addition overflow")
        return value
    }

    @inlinable
    public static func - (lhs: UInt256, rhs: UInt256) -> UInt256 {
        let (value, overflow) = lhs.subtractingReportingOverflow(rhs)
        precondition(!overflow, "UInt256 subtraction underflow")
        return value
    }

    @inlinable
    public static func * (lhs: UInt256, rhs: UInt256) -> UInt256 {
        let (value, overflow) = lhs.multipliedReportingOverflow(by: rhs)
        precondition(!overflow, "UInt256 multiplication overflow")
        return value
    }

    public static func / (lhs: UInt256, rhs: UInt256) -> UInt256 {
        lhs.quotientAndRemainder(dividingBy: rhs).quotient
    }

    public static func % (lhs: UInt256, rhs: UInt256) -> UInt256 {
        lhs.quotientAndRemainder(dividingBy: rhs).remainder
    }

    @inlinable
    public static func += (lhs: inout UInt256, rhs: UInt256) { lhs = lhs + rhs }
    @inlinable
    public static func -= (lhs: inout UInt256, rhs: UInt256) { lhs = lhs - rhs }
    @inlinable
    public static func *= (lhs: inout UInt256, rhs: UInt256) { lhs = lhs * rhs }
    public static func /= (lhs: inout UInt256, rhs: UInt256) { lhs = lhs / rhs }
    public static func %= (lhs: inout UInt256, rhs: UInt256) { lhs = lhs % rhs }

    /// Wrapping (modulo 2^256) addition.
    @inlinable
    public static func &+ (lhs: UInt256, rhs: UInt256) -> UInt256 { lhs.addingReportingOverflow(rhs).partialValue }
    /// Wrapping (modulo 2^256) subtraction.
    @inlinable
    public static func &- (lhs: UInt256, rhs: UInt256) -> UInt256 { lhs.subtractingReportingOverflow(rhs).partialValue }
    /// Wrapping (modulo 2^256) multiplication.
    @inlinable
    public static func &* (lhs: UInt256, rhs: UInt256) -> UInt256 { lhs.multipliedReportingOverflow(by: rhs).partialValue }

    /// 10^n, or `nil` if it does not fit in 256 bits (n > 77) or n is negative.
    public static func powerOfTen(_ n: Int) -> UInt256? {
        guard n >= 0, n < powersOfTen.count else { return nil }
        return powersOfTen[n]
    }

    private static let powersOfTen: [UInt256] = {
        var table: [UInt256] = [.one]
        var value = UInt256.one
        while true {
            let (next, overflow) = value.multipliedReportingOverflow(by: UInt256(10))
            if overflow { break }
            table.append(next)
            value = next
        }
        return table
    }()
}

// MARK: - Bitwise

extension UInt256 {
    @inlinable
    public static func & (lhs: UInt256, rhs: UInt256) -> UInt256 {
        UInt256(limbs: lhs.w0 & rhs.w0, lhs.w1 & rhs.w1, lhs.w2 & rhs.w2, lhs.w3 & rhs.w3)
    }

    @inlinable
    public static func | (lhs: UInt256, rhs: UInt256) -> UInt256 {
        UInt256(limbs: lhs.w0 | rhs.w0, lhs.w1 | rhs.w1, lhs.w2 | rhs.w2, lhs.w3 | rhs.w3)
    }

    @inlinable
    public static func ^ (lhs: UInt256, rhs: UInt256) -> UInt256 {
        UInt256(limbs: lhs.w0 ^ rhs.w0, lhs.w1 ^ rhs.w1, lhs.w2 ^ rhs.w2, lhs.w3 ^ rhs.w3)
    }

    @inlinable
    public static prefix func ~ (value: UInt256) -> UInt256 {
        UInt256(limbs: ~value.w0, ~value.w1, ~value.w2, ~value.w3)
    }

    /// Logical left shift; shifts of 256 or more (or negative) give zero.
    @inlinable
    public static func << (lhs: UInt256, rhs: Int) -> UInt256 {
        if rhs < 0 { return lhs >> (-rhs) }
        if rhs >= 256 { return .zero }
        let limbShift = rhs / 64
        let bitShift = UInt64(rhs % 64)
        var result = UInt256.zero
        var i = 3
        while i >= limbShift {
            var limb = lhs[limb: i - limbShift] << bitShift
            if bitShift != 0, i - limbShift - 1 >= 0 {
                limb |= lhs[limb: i - limbShift - 1] >> (64 - bitShift)
            }
            result[limb: i] = limb
            i -= 1
        }
        return result
    }

    /// Logical right shift; shifts of 256 or more (or negative) give zero.
    @inlinable
    public static func >> (lhs: UInt256, rhs: Int) -> UInt256 {
        if rhs < 0 { return lhs << (-rhs) }
        if rhs >= 256 { return .zero }
        let limbShift = rhs / 64
        let bitShift = UInt64(rhs % 64)
        var result = UInt256.zero
        var i = 0
        while i + limbShift < 4 {
            var limb = lhs[limb: i + limbShift] >> bitShift
            if bitShift != 0, i + limbShift + 1 < 4 {
                limb |= lhs[limb: i + limbShift + 1] << (64 - bitShift)
            }
            result[limb: i] = limb
            i += 1
        }
        return result
    }
}

// MARK: - Bytes

extension UInt256 {
    /// Creates a value from at most 32 big-endian bytes (shorter inputs are left-padded with zeros).
    public init?(bigEndian bytes: some Collection<UInt8>) {
        guard bytes.count <= 32 else { return nil }
        var result = UInt256.zero
        var bitIndex = (bytes.count - 1) * 8
        for byte in bytes {
            result[limb: bitIndex / 64] |= UInt64(byte) << UInt64(bitIndex % 64)
            bitIndex -= 8
        }
        self = result
    }

    /// The 32-byte big-endian representation.
    @inlinable
    public var bigEndianBytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { buffer, count in
            writeBigEndian(to: UnsafeMutableRawBufferPointer(buffer))
            count = 32
        }
    }

    /// Writes the 32-byte big-endian representation to the start of `buffer` (at least 32 bytes).
    @inlinable
    package func writeBigEndian(to buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count >= 32)
        buffer.storeBytes(of: w3.bigEndian, toByteOffset: 0, as: UInt64.self)
        buffer.storeBytes(of: w2.bigEndian, toByteOffset: 8, as: UInt64.self)
        buffer.storeBytes(of: w1.bigEndian, toByteOffset: 16, as: UInt64.self)
        buffer.storeBytes(of: w0.bigEndian, toByteOffset: 24, as: UInt64.self)
    }
}

// MARK: - Strings

extension UInt256 {
    private static let tenToThe19: UInt64 = 10_000_000_000_000_000_000

    /// Parses an unsigned decimal string: ASCII digits only, non-empty, no sign or whitespace,
    /// leading zeros allowed. Returns `nil` if malformed or larger than 2^256 − 1.
    public init?(decimal text: String) {
        var text = text
        guard let value = text.withUTF8({ UInt256.parseDecimal($0) }) else { return nil }
        self = value
    }

    /// Parses an unsigned decimal string (see ``init(decimal:)-(String)``).
    public init?(decimal text: some StringProtocol) {
        self.init(decimal: String(text))
    }

    /// Parses ASCII decimal digits from UTF-8 bytes.
    package static func parseDecimal(_ utf8: UnsafeBufferPointer<UInt8>) -> UInt256? {
        guard !utf8.isEmpty else { return nil }
        var result = UInt256.zero
        var chunk: UInt64 = 0
        var chunkDigits = 0
        for byte in utf8 {
            let digit = byte &- 0x30
            guard digit < 10 else { return nil }
            chunk = chunk &* 10 &+ UInt64(digit)
            chunkDigits += 1
            if chunkDigits == 19 {
                guard let next = result.multipliedAdding(UInt256.tenToThe19, chunk) else { return nil }
                result = next
                chunk = 0
                chunkDigits = 0
            }
        }
        if chunkDigits > 0 {
            var scale: UInt64 = 1
            for _ in 0..<chunkDigits { scale &*= 10 }
            guard let next = result.multipliedAdding(scale, chunk) else { return nil }
            result = next
        }
        return result
    }

    /// `self * factor + addend`, or `nil` on overflow.
    private func multipliedAdding(_ factor: UInt64, _ addend: UInt64) -> UInt256? {
        let (high, low) = multipliedFullWidth(by: factor)
        guard high == 0 else { return nil }
        let (sum, overflow) = low.addingReportingOverflow(UInt256(addend))
        return overflow ? nil : sum
    }

    /// Parses a hexadecimal string with an optional `0x`/`0X` prefix and 1 to 64 digits (either case).
    public init?(hex text: String) {
        var text = text
        guard let value = text.withUTF8({ UInt256.parseHex($0) }) else { return nil }
        self = value
    }

    /// Parses a hexadecimal string (see ``init(hex:)-(String)``).
    public init?(hex text: some StringProtocol) {
        self.init(hex: String(text))
    }

    /// Parses hexadecimal digits (optional `0x`/`0X` prefix, 1 to 64 digits) from UTF-8 bytes.
    package static func parseHex(_ utf8: UnsafeBufferPointer<UInt8>) -> UInt256? {
        var digits = utf8[...]
        if digits.count >= 2, digits[digits.startIndex] == 0x30,
            digits[digits.startIndex + 1] == 0x78 || digits[digits.startIndex + 1] == 0x58
        {
            digits = digits.dropFirst(2)
        }
        guard !digits.isEmpty, digits.count <= 64 else { return nil }
        var result = UInt256.zero
        var bitIndex = (digits.count - 1) * 4
        for byte in digits {
            let nibble: UInt8
            switch byte {
            case 0x30...0x39: nibble = byte - 0x30
            case 0x61...0x66: nibble = byte - 0x61 + 10
            case 0x41...0x46: nibble = byte - 0x41 + 10
            default: return nil
            }
            result[limb: bitIndex / 64] |= UInt64(nibble) << UInt64(bitIndex % 64)
            bitIndex -= 4
        }
        return result
    }

    /// The exact decimal representation, without leading zeros ("0" for zero).
    public var decimalString: String {
        if let small = asUInt64 { return String(small) }
        var chunks: [UInt64] = []
        var value = self
        while !value.isZero {
            let (q, r) = value.quotientAndRemainder(dividingByWord: UInt256.tenToThe19)
            chunks.append(r)
            value = q
        }
        var text = String(chunks.removeLast())
        for chunk in chunks.reversed() {
            let digits = String(chunk)
            text += String(repeating: "0", count: 19 - digits.count) + digits
        }
        return text
    }

    /// Minimal lower-case hexadecimal with a `0x` prefix ("0x0" for zero).
    public var hexString: String {
        if isZero { return "0x0" }
        var text = "0x"
        var started = false
        for index in stride(from: 3, through: 0, by: -1) {
            let limb = self[limb: index]
            if !started {
                if limb == 0 { continue }
                text += String(limb, radix: 16)
                started = true
            } else {
                let digits = String(limb, radix: 16)
                text += String(repeating: "0", count: 16 - digits.count) + digits
            }
        }
        return text
    }
}

extension UInt256: CustomStringConvertible, CustomDebugStringConvertible {
    /// The decimal representation.
    public var description: String { decimalString }
    public var debugDescription: String { "UInt256(\(decimalString))" }
}

extension UInt256: LosslessStringConvertible {
    /// Parses a strict decimal string (see ``init(decimal:)-(String)``).
    public init?(_ description: String) {
        self.init(decimal: description)
    }
}

// MARK: - Codable

extension UInt256: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            guard let value = UInt256(decimal: text) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "Expected an unsigned decimal integer string below 2^256, got \"\(text.prefix(100))\""
                )
            }
            self = value
            return
        }
        if let number = try? container.decode(UInt64.self) {
            self.init(number)
            return
        }
        throw DecodingError.dataCorruptedError(
            in: container,
            debugDescription: "Expected an unsigned decimal integer string (or a non-negative JSON integer)"
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(decimalString)
    }
}
