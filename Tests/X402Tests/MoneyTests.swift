import Foundation
import Testing

@testable import X402

@Suite("Money and prices")
struct MoneyTests {
    @Test(
        "money strings become exact atomic amounts",
        arguments: [
            ("$0.01", 6, "10000"), ("0.01", 6, "10000"), ("$1", 6, "1000000"), ("  $0.001 ", 6, "1000"), (".5", 6, "500000"),
            ("10.", 6, "10000000"), ("0.000001", 6, "1"), ("0.0100", 6, "10000"), ("0", 6, "0"), ("$0.01", 18, "10000000000000000"),
            ("123456789.123456", 6, "123456789123456"),
        ])
    func parse(_ text: String, _ decimals: Int, _ atomic: String) throws {
        #expect(try Money(text).atomicAmount(decimals: decimals) == UInt256(decimal: atomic))
    }

    @Test("bad prices are refused with the reason")
    func refusals() {
        #expect(throws: MoneyError.negative("-1")) { try Money("-1") }
        #expect(throws: MoneyError.negative("$-1")) { try Money("$-1") }
        #expect(throws: MoneyError.empty) { try Money("  ") }
        #expect(throws: MoneyError.invalidFormat("1e-3")) { try Money("1e-3") }
        #expect(throws: MoneyError.invalidFormat("$")) { try Money("$") }
        #expect(throws: MoneyError.invalidFormat("1,000")) { try Money("1,000") }
        #expect(throws: MoneyError.invalidFormat("1.2.3")) { try Money("1.2.3") }
        #expect(throws: MoneyError.invalidFormat("١")) { try Money("١") }  // non-ASCII digit
        #expect(throws: MoneyError.tooManyDecimals("0.0000001", allowed: 6)) { try Money("0.0000001").atomicAmount(decimals: 6) }
        let huge = String(repeating: "9", count: 80)
        #expect(throws: MoneyError.overflow(huge)) { try Money(huge) }
        let big = "1" + String(repeating: "0", count: 70)
        #expect(throws: MoneyError.overflow(big)) { try Money(big).atomicAmount(decimals: 18) }
    }

    @Test("Decimal input is converted exactly")
    func decimals() throws {
        #expect(try Money(Decimal(string: "0.001")!).atomicAmount(decimals: 6) == 1000)
        #expect(try Money(Decimal(string: "1234.5678")!).atomicAmount(decimals: 6) == 1_234_567_800)
        #expect(throws: MoneyError.negative("-0.5")) { try Money(Decimal(string: "-0.5")!) }
    }

    @Test("formatting atomic amounts", arguments: [("10000", 6, "0.01"), ("1", 6, "0.000001"), ("1000000", 6, "1"), ("0", 6, "0"), ("15", 0, "15")])
    func format(_ atomic: String, _ decimals: Int, _ text: String) {
        #expect(Money.format(UInt256(decimal: atomic)!, decimals: decimals) == text)
    }

    @Test("prices resolve against the asset registry")
    func resolve() throws {
        let amount = try AssetRegistry.standard.resolve(.dollars("$0.01"), on: .base)
        #expect(amount.amount == 10000)
        #expect(amount.asset == "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913")
        #expect(amount.extra == ["name": "USD Coin", "version": "2"])
        #expect(throws: PriceResolutionError.noDefaultAsset(.eip155(999))) {
            try AssetRegistry.standard.resolve(.dollars("1"), on: .eip155(999))
        }
        #expect(throws: PriceResolutionError.invalidAmount(.tooManyDecimals("0.0000001", allowed: 6))) {
            try AssetRegistry.standard.resolve(.money(Money("0.0000001")), on: .base)
        }
        let token = try AssetRegistry.standard.resolve(.tokenAmount(amount: 5, asset: "0xToken", extra: ["name": "T"]), on: .eip155(999))
        #expect(token.amount == 5 && token.extra == ["name": "T"])
    }
}
