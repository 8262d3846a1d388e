/// An exact amount of US dollars, held in units of 10⁻¹⁸ dollar so every stablecoin (6 or 18
/// decimals) converts without loss. Used for spending limits, quotes and the spend ledger.
public struct DollarAmount: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The precision: 18 decimal places.
    public static let decimals = 18

    /// The amount in units of 10⁻¹⁸ dollar.
    public let attodollars: UInt256

    public static let zero = DollarAmount(attodollars: .zero)

    public init(attodollars: UInt256) { self.attodollars = attodollars }

    /// `DollarAmount("$0.25")`, `DollarAmount("10")`.
    public init(_ text: String) throws(MoneyError) {
        try self.init(Money(text))
    }

    public init(_ money: Money) throws(MoneyError) {
        attodollars = try money.atomicAmount(decimals: Self.decimals)
    }

    /// The value of `atomic` units of a dollar-pegged token with `decimals` decimals. A token with
    /// more than 18 decimals is rounded up to the next 10⁻¹⁸ dollar (limits err on the safe side).
    public init(atomic: UInt256, decimals: Int) {
        if decimals <= Self.decimals {
            let factor = UInt256.powerOfTen(Self.decimals - decimals) ?? .zero
            let (value, overflow) = atomic.multipliedReportingOverflow(by: factor)
            attodollars = overflow ? .max : value
        } else {
            let divisor = UInt256.powerOfTen(decimals - Self.decimals) ?? .max
            let (q, r) = atomic.quotientAndRemainder(dividingBy: divisor)
            attodollars = r.isZero ? q : q + .one
        }
    }

    public static func < (lhs: DollarAmount, rhs: DollarAmount) -> Bool { lhs.attodollars < rhs.attodollars }

    /// Saturating sum (amounts near 2²⁵⁶ attodollars do not occur in practice).
    public static func + (lhs: DollarAmount, rhs: DollarAmount) -> DollarAmount {
        let (sum, overflow) = lhs.attodollars.addingReportingOverflow(rhs.attodollars)
        return DollarAmount(attodollars: overflow ? .max : sum)
    }

    /// Saturating difference (never below zero).
    public static func - (lhs: DollarAmount, rhs: DollarAmount) -> DollarAmount {
        lhs < rhs ? .zero : DollarAmount(attodollars: lhs.attodollars - rhs.attodollars)
    }

    /// The plain decimal number without the dollar sign, e.g. `0.5`.
    public var decimalString: String { Money.format(attodollars, decimals: Self.decimals) }

    /// `$0.50`, `$0.001`, `$12.00`: at least two fractional digits, no trailing zeros beyond.
    public var description: String {
        var text = decimalString
        if let dot = text.firstIndex(of: ".") {
            let fraction = text.distance(from: dot, to: text.endIndex) - 1
            if fraction < 2 { text += String(repeating: "0", count: 2 - fraction) }
        } else {
            text += ".00"
        }
        return "$" + text
    }
}

extension Sequence where Element == DollarAmount {
    /// The sum of the amounts.
    public func sum() -> DollarAmount { reduce(.zero, +) }
}
