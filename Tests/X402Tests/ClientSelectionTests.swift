import Foundation
import Testing

@testable import X402

@Suite("Buyer option selection and quotes")
struct ClientSelectionTests {
    typealias F = ClientFixtures

    @Test("only options a registered client handles are candidates (wildcards, versions)")
    func registeredOnly() {
        var registry = SchemeRegistry<any SchemeClient>()
        registry.register(CountingSchemeClient(), networks: .evm, versions: [.v2])
        let required = F.required([
            F.offer(amount: "1", network: .solanaDevnet, asset: "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"),
            F.offer(amount: "2", scheme: "upto"),
            F.offer(amount: "3"),
        ])
        #expect(registry.candidates(for: required).map(\.index) == [2])
        let v1 = AnyPaymentRequired.v1(
            PaymentRequiredV1(accepts: [
                PaymentRequirementsV1(
                    scheme: "exact", network: "base-sepolia", maxAmountRequired: "1", resource: "https://x", payTo: F.seller,
                    maxTimeoutSeconds: 60, asset: F.usdcBaseSepolia)
            ]))
        #expect(registry.candidates(for: v1).isEmpty)  // registered for v2 only
    }

    @Test("cheapest: same asset by atomic amount; different decimals by dollar value")
    func cheapest() {
        let registry = F.registry(CountingSchemeClient())
        // $0.02 USDC on Base Sepolia, $0.015 USDC on Base, 0.01 MegaUSD (18 decimals) = $0.01.
        let required = F.required([
            F.offer(amount: "20000"),
            F.offer(amount: "15000", network: .base, asset: F.usdcBase),
            F.offer(amount: "10000000000000000", network: .eip155(4326), asset: F.megaUSD),
        ])
        let candidates = registry.candidates(for: required)
        #expect(candidates.map(\.value) == [F.dollars("0.02"), F.dollars("0.015"), F.dollars("0.01")])
        #expect(PreferringSelector().select(from: candidates)?.index == 2)
        // Unknown assets: after valued ones, then by atomic amount within the asset.
        let unknown = "0x00000000000000000000000000000000000000aa"
        let mixed = registry.candidates(
            for: F.required([F.offer(amount: "5", asset: unknown), F.offer(amount: "3", asset: unknown), F.offer(amount: "999999")]))
        #expect(PreferringSelector().ranked(mixed).map(\.index) == [2, 1, 0])
    }

    @Test("preferences: network first, then asset, then price")
    func preferences() {
        let registry = F.registry(CountingSchemeClient())
        let candidates = registry.candidates(
            for: F.required([
                F.offer(amount: "1000"),
                F.offer(amount: "9000", network: .base, asset: F.usdcBase),
            ]))
        #expect(PreferringSelector(networks: [.base]).select(from: candidates)?.index == 1)
        #expect(PreferringSelector(assets: [F.usdcBase.lowercased()]).select(from: candidates)?.index == 1)
        #expect(PreferringSelector().select(from: candidates)?.index == 0)
    }

    @Test("a custom selector is used")
    func customSelector() async throws {
        struct LastOne: PaymentSelector {
            func select(from candidates: [PaymentCandidate]) -> PaymentCandidate? { candidates.last }
        }
        let p = Payer(schemes: F.registry(CountingSchemeClient()), wallet: "w", selector: LastOne())
        let paid = try await p.preparePayment(for: F.required([F.offer(amount: "1"), F.offer(amount: "2")]))
        #expect(paid.candidate.index == 1)
    }

    @Test("quote: every payable option priced, best first, with the policy's verdict; nothing signed")
    func quote() {
        let client = CountingSchemeClient()
        let p = Payer(schemes: F.registry(client), wallet: "w", policy: SpendingPolicy(perPaymentCap: F.dollars("0.05")))
        let q = p.quote(F.required([F.offer(amount: "100000"), F.offer(amount: "20000", network: .base, asset: F.usdcBase)]))
        #expect(q.options.map(\.candidate.index) == [1, 0])
        #expect(q.options[0].price == F.dollars("0.02"))
        #expect(q.options[0].candidate.tokenAmount == "0.02")
        #expect(q.options[0].refusal == nil)
        #expect(q.options[1].refusal == .exceedsPerPaymentCap(amount: F.dollars("0.1"), cap: F.dollars("0.05")))
        #expect(q.chosen?.network == .base)
        #expect(client.calls.isEmpty)
    }

    @Test("dollar amounts: formatting and conversion")
    func dollarAmounts() {
        #expect(F.dollars("0.5").description == "$0.50")
        #expect(F.dollars("12").description == "$12.00")
        #expect(F.dollars("0.001").description == "$0.001")
        #expect(DollarAmount(atomic: 1, decimals: 6).description == "$0.000001")
        #expect(DollarAmount(atomic: 1_000_000_000_000_000_000, decimals: 18) == F.dollars("1"))
        #expect(DollarAmount(atomic: 1, decimals: 20) == DollarAmount(attodollars: 1))  // rounded up
    }
}
