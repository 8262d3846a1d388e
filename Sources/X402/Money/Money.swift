public import Foundation

/// Why a price could not be turned into a token amount.
public enum MoneyError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    /// Not a plain decimal number (optionally with a leading `$`).
    case invalidFormat(String)
    case negative(String)
    /// More fractional digits than the asset has decimals (no silent truncation).
    case tooManyDecimals(String, allowed: Int)
    /// The amount does not fit in 256 bits.
    case overflow(String)

    public var description: String {
        switch self {
        case .empty: "price is empty"
        case .invalidFormat(let s): "price \"\(s)\" is not a decimal amount such as \"$0.01\" or \"0.01\""
        case .negative(let s): "price \"\(s)\" is negative"
        case .tooManyDecimals(let s, let allowed): "price \"\(s)\" has more than \(allowed) decimal places, the asset's precision"
        case .overflow(let s): "price \"\(s)\" is too large for a uint256 amount"
        }
    }
}

/// A non-negative decimal amount of money (in dollars or token units), held exactly.
///
/// `Money("$0.001")`, `Money("0.001")` and `Money(Decimal(string: "0.001")!)` are the same value.
/// No floating point is involved anywhere.
public struct Money: Sendable, Hashable, CustomStringConvertible {
    /// All digits, without the decimal point.
    public let significand: UInt256
    /// How many of those digits are fractional.
    public let scale: Int

    /// Parses `"$0.01"`, `"0.01"`, `"10"`, `".5"`; surrounding spaces are ignored.
    public init(_ text: String) throws(MoneyError) {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !s.isEmpty else { throw .empty }
        if s.first == "-" { throw .negative(text) }
        if s.first == "$" { s = s.dropFirst() }
        if s.first == "-" { throw .negative(text) }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty),
            whole.allSatisfy({ $0.isASCII && $0.isNumber }), fraction.allSatisfy({ $0.isASCII && $0.isNumber })
        else { throw .invalidFormat(text) }
        // Drop trailing fractional zeros: "0.010" is 0.01.
        var frac = fraction
        while frac.last == "0" { frac = frac.dropLast() }
        let digits = String(whole) + String(frac)
        guard let value = UInt256(decimal: digits.isEmpty ? "0" : digits) else { throw .overflow(text) }
        significand = value
        scale = frac.count
    }

    /// Converts a `Decimal` exactly.
    public init(_ decimal: Decimal) throws(MoneyError) {
        guard !decimal.isNaN else { throw .invalidFormat("NaN") }
        if decimal < 0 { throw .negative(decimal.description) }
        try self.init(decimal.description)
    }

    /// The amount in atomic units of an asset with `decimals` decimals (`0.01` → `10000` at 6).
    ///
    /// - Throws: ``MoneyError/tooManyDecimals(_:allowed:)`` rather than truncating, and
    ///   ``MoneyError/overflow(_:)``.
    public func atomicAmount(decimals: Int) throws(MoneyError) -> UInt256 {
        guard scale <= decimals else { throw .tooManyDecimals(description, allowed: decimals) }
        guard let factor = UInt256.powerOfTen(decimals - scale) else { throw .overflow(description) }
        let (result, overflow) = significand.multipliedReportingOverflow(by: factor)
        guard !overflow else { throw .overflow(description) }
        return result
    }

    /// The plain decimal text, e.g. `0.001`.
    public var description: String { Money.format(significand, decimals: scale) }

    /// Formats an atomic amount with `decimals` decimals, without trailing fractional zeros
    /// (`10000`, 6 → `"0.01"`).
    public static func format(_ atomic: UInt256, decimals: Int) -> String {
        var digits = atomic.decimalString
        guard decimals > 0 else { return digits }
        if digits.count <= decimals { digits = String(repeating: "0", count: decimals - digits.count + 1) + digits }
        var whole = String(digits.dropLast(decimals))
        var fraction = String(digits.suffix(decimals))
        while fraction.last == "0" { fraction.removeLast() }
        if whole.isEmpty { whole = "0" }
        return fraction.isEmpty ? whole : "\(whole).\(fraction)"
    }
}

/// What a route charges: money in the network's default stablecoin, or an exact token amount.
public enum Price: Sendable, Hashable {
    /// A decimal amount of the network's default stablecoin (`$0.01` = one cent of USDC).
    case money(Money)
    /// An amount in atomic units of a specific token, with optional scheme `extra` (e.g. the
    /// token's EIP-712 name and version).
    case tokenAmount(amount: UInt256, asset: String, extra: JSONObject? = nil)

    /// Parses a money string such as `"$0.01"`.
    public static func dollars(_ text: String) throws(MoneyError) -> Price { .money(try Money(text)) }
}

/// A price resolved to a concrete asset.
public struct AssetAmount: Sendable, Hashable {
    /// Atomic units.
    public var amount: UInt256
    /// Token address or mint.
    public var asset: String
    /// Scheme data for `PaymentRequirements.extra`.
    public var extra: JSONObject

    public init(amount: UInt256, asset: String, extra: JSONObject = [:]) {
        self.amount = amount
        self.asset = asset
        self.extra = extra
    }
}
