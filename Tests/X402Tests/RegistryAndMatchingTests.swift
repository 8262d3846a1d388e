import Testing

@testable import X402

@Suite("Registries and the accepted-matching rule")
struct RegistryAndMatchingTests {
    @Test("the most specific registration wins; re-registering replaces")
    func specificity() {
        var registry = SchemeRegistry<String>()
        registry.register("evm-any", scheme: "exact", networks: .evm)
        registry.register("base-only", scheme: "exact", networks: NetworkPattern(.base), versions: [.v2])
        #expect(registry.implementation(version: .v2, scheme: "exact", network: .base) == "base-only")
        #expect(registry.implementation(version: .v2, scheme: "exact", network: .baseSepolia) == "evm-any")
        #expect(registry.implementation(version: .v1, scheme: "exact", network: .base) == "evm-any")
        #expect(registry.implementation(version: .v2, scheme: "upto", network: .base) == nil)
        #expect(registry.implementation(version: .v2, scheme: "exact", network: .solanaDevnet) == nil)
        registry.register("evm-new", scheme: "exact", networks: .evm)
        #expect(registry.implementation(version: .v2, scheme: "exact", network: .baseSepolia) == "evm-new")
        #expect(registry.registrations.count == 3)
        // Order of registration does not matter for specificity.
        var reversed = SchemeRegistry<String>()
        reversed.register("base-only", scheme: "exact", networks: NetworkPattern(.base))
        reversed.register("evm-any", scheme: "exact", networks: .evm)
        #expect(reversed.implementation(version: .v2, scheme: "exact", network: .base) == "base-only")
    }

    static let offer = PaymentRequirements(
        scheme: "exact", network: .baseSepolia, amount: "10000", asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
        payTo: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", maxTimeoutSeconds: 60, extra: ["name": "USDC", "version": "2"])

    static func payload(_ accepted: PaymentRequirements) -> AnyPaymentPayload {
        .v2(PaymentPayload(accepted: accepted, payload: ["signature": "0x"]))
    }

    @Test("v2: the echo must equal an offer in full")
    func v2Matching() throws {
        let other = PaymentRequirements(scheme: "exact", network: .base, amount: "1", asset: "0xa", payTo: "0xb")
        let offers: [AnyPaymentRequirements] = [.v2(other), .v2(Self.offer)]
        #expect(RequirementsMatching.indexOfAccepted(Self.payload(Self.offer), in: offers) == 1)

        // Key order inside extra does not matter; values do.
        var reordered = Self.offer
        reordered.extra = ["version": "2", "name": "USDC"]
        #expect(RequirementsMatching.indexOfAccepted(Self.payload(reordered), in: offers) == 1)

        var tampered: [PaymentRequirements] = []
        for change in 0..<8 {
            var t = Self.offer
            switch change {
            case 0: t.amount = "9999"
            case 1: t.payTo = "0x209693bc6afc0c5328ba36faf03c514ef312287c"  // case differs: not an exact echo
            case 2: t.extra = [:]
            case 3: t.extra = nil
            case 4: t.extra?["version"] = "1"
            case 5: t.maxTimeoutSeconds = 61
            case 6: t.network = .base
            default: t.additionalMembers = ["x": true]
            }
            tampered.append(t)
        }
        for t in tampered {
            #expect(RequirementsMatching.indexOfAccepted(Self.payload(t), in: offers) == nil, "\(t.json)")
        }
    }

    @Test("v1: scheme and network decide; versions never cross")
    func v1Matching() {
        let v1Offer = PaymentRequirementsV1(
            scheme: "exact", network: "base-sepolia", maxAmountRequired: "10000", resource: "https://x", payTo: "0xb", asset: "0xa")
        let offers: [AnyPaymentRequirements] = [.v2(Self.offer), .v1(v1Offer)]
        let payload = AnyPaymentPayload.v1(PaymentPayloadV1(scheme: "exact", network: "base-sepolia", payload: [:]))
        #expect(RequirementsMatching.indexOfAccepted(payload, in: offers) == 1)
        let wrongNetwork = AnyPaymentPayload.v1(PaymentPayloadV1(scheme: "exact", network: "base", payload: [:]))
        #expect(RequirementsMatching.accepted(wrongNetwork, in: offers) == nil)
        #expect(RequirementsMatching.accepted(Self.payload(Self.offer), in: [.v1(v1Offer)]) == nil)
    }
}
