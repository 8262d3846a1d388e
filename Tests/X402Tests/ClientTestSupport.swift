import Foundation

@testable import X402

/// A scheme client that signs nothing real and counts its calls.
final class CountingSchemeClient: SchemeClient, @unchecked Sendable {
    let scheme: String
    private let lock = NSLock()
    private var _calls: [PaymentRequirements] = []
    var extensions: JSONObject?
    var failure: (any Error)?

    init(scheme: String = "exact", extensions: JSONObject? = nil, failure: (any Error)? = nil) {
        self.scheme = scheme
        self.extensions = extensions
        self.failure = failure
    }

    var calls: [PaymentRequirements] { lock.withLock { _calls } }

    func createPayload(for requirements: PaymentRequirements, context: PaymentContext) async throws -> SchemePayload {
        lock.withLock { _calls.append(requirements) }
        if let failure { throw failure }
        return SchemePayload(payload: ["signature": "0xsigned", "amount": .string(requirements.amount)], extensions: extensions)
    }
}

/// A clock tests move by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var _now: Date
    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { _now = start }
    var now: Date { lock.withLock { _now } }
    func advance(_ seconds: TimeInterval) { lock.withLock { _now += seconds } }
    var function: @Sendable () -> Date { { self.now } }
}

enum ClientFixtures {
    static let usdcBaseSepolia = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
    static let usdcBase = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
    static let megaUSD = "0xFAfDdbb3FC7688494971a79cc65DCa3EF82079E7"  // 18 decimals on eip155:4326
    static let seller = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"

    static func offer(
        amount: String, network: Network = .baseSepolia, asset: String = usdcBaseSepolia, payTo: String = seller, scheme: String = "exact"
    ) -> PaymentRequirements {
        PaymentRequirements(
            scheme: scheme, network: network, amount: amount, asset: asset, payTo: payTo, maxTimeoutSeconds: 60,
            extra: ["name": "USDC", "version": "2"])
    }

    static func required(_ offers: [PaymentRequirements], extensions: JSONObject? = nil) -> AnyPaymentRequired {
        .v2(
            PaymentRequired(
                error: "Payment required", resource: ResourceInfo(url: "https://api.example/data"), accepts: offers, extensions: extensions))
    }

    static func registry(_ client: any SchemeClient, networks: NetworkPattern = .evm) -> SchemeRegistry<any SchemeClient> {
        var r = SchemeRegistry<any SchemeClient>()
        r.register(client, networks: networks)
        return r
    }

    static func dollars(_ s: String) -> DollarAmount { try! DollarAmount(s) }
}
