public import X402

/// A 256-bit two's-complement signed integer, for ABI and EIP-712 `int<N>` values.
public struct Int256: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The two's-complement bit pattern.
    public let bitPattern: UInt256

    /// −2^255.
    public static let min = Int256(bitPattern: UInt256(1) << 255)
    /// 2^255 − 1.
    public static let max = Int256(bitPattern: ~(UInt256(1) << 255))

    /// Creates a value from its two's-complement bit pattern.
    public init(bitPattern: UInt256) {
        self.bitPattern = bitPattern
    }

    /// Creates a value equal to `value`.
    public init(_ value: Int64) {
        let magnitude = UInt256(value.magnitude)
        bitPattern = value < 0 ? (UInt256.zero &- magnitude) : magnitude
    }

    /// Whether the value is below zero.
    public var isNegative: Bool { bitPattern.leadingZeroBitCount == 0 }

    /// |value| (exact; −2^255 gives 2^255).
    public var magnitude: UInt256 { isNegative ? UInt256.zero &- bitPattern : bitPattern }

    /// Parses an optional `-` followed by decimal digits; `nil` if malformed or outside [−2^255, 2^255 − 1].
    public init?(decimal text: some StringProtocol) {
        var digits = Substring(text)
        let negative = digits.first == "-"
        if negative { digits = digits.dropFirst() }
        guard let magnitude = UInt256(decimal: digits) else { return nil }
        self.init(negative: negative, magnitude: magnitude)
    }

    /// Creates `±magnitude`, or `nil` if it does not fit.
    public init?(negative: Bool, magnitude: UInt256) {
        let limit = UInt256(1) << 255
        if negative {
            guard magnitude <= limit else { return nil }
            bitPattern = UInt256.zero &- magnitude
        } else {
            guard magnitude < limit else { return nil }
            bitPattern = magnitude
        }
    }

    /// Whether the value fits in a signed integer of `bits` bits (8…256).
    public func fits(bits: Int) -> Bool {
        if bits >= 256 { return true }
        let limit = UInt256(1) << (bits - 1)
        return isNegative ? magnitude <= limit : magnitude < limit
    }

    /// Decimal text with a leading `-` for negative values.
    public var description: String { (isNegative ? "-" : "") + magnitude.decimalString }

    public static func < (lhs: Int256, rhs: Int256) -> Bool {
        if lhs.isNegative != rhs.isNegative { return lhs.isNegative }
        return lhs.bitPattern < rhs.bitPattern
    }
}
