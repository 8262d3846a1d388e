import Testing
import X402
import X402EVMRPC

@testable import X402EVM

/// The few `exact` fixtures the hostile-node test needs (the same keys and amounts as the
/// X402EVMTests `ExactFixture`).
enum HostileNodeFixture {
    static let payerKey = try! PrivateKey(hex: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
    static let facilitatorKey = try! PrivateKey(hex: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
    static let now: UInt64 = 1_800_000_000

    static func requirements() -> PaymentRequirements {
        PaymentRequirements(
            scheme: "exact", network: .baseSepolia, amount: "10000", asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
            payTo: "0x23618e81e3f5cdf7f54c3d65f7fbc0abf5b21e8f", maxTimeoutSeconds: 60, extra: ["name": "USDC", "version": "2"])
    }

    /// A signed v2 payment for ``requirements()``.
    static func payment() async throws -> AnyPaymentPayload {
        let payload = try await ExactEVMClient(signer: payerKey, clock: .fixed(now)).signedPayload(for: requirements())
        return .v2(PaymentPayload(accepted: requirements(), payload: payload.json))
    }
}

@Suite("exact EVM facilitator: a hostile node over JSON-RPC")
struct ExactEVMHostileNodeTests {
    typealias F = HostileNodeFixture

    /// A node that answers absurd fees (2^256 − 1 wei) over real JSON-RPC.
    static func hostileNode() throws -> JSONRPCTestServer {
        let huge = "\"0x" + String(repeating: "f", count: 64) + "\""
        return try JSONRPCTestServer { request, _ in
            let id = request.json?["id"].map { String(decoding: $0.serialized(), as: UTF8.self) } ?? "1"
            func result(_ json: String) -> JSONRPCTestServer.Behaviour {
                .respond(status: 200, body: #"{"jsonrpc":"2.0","id":\#(id),"result":\#(json)}"#)
            }
            switch request.method {
            case "eth_chainId": return result(#""0x14a34""#)
            case "eth_feeHistory": return result(#"{"oldestBlock":"0x1","baseFeePerGas":[\#(huge),\#(huge)],"gasUsedRatio":[0.5]}"#)
            case "eth_maxPriorityFeePerGas", "eth_gasPrice": return result(huge)
            case "eth_getCode": return result(#""0x""#)
            case "eth_call": return result(#""0x0000000000000000000000000000000000000000000000000000000000000000""#)
            case "eth_getTransactionCount": return result(#""0x0""#)
            case "eth_estimateGas": return result(#""0xffffffffffffffff""#)
            default: return .respond(status: 200, body: #"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32601,"message":"no"}}"#)
            }
        }
    }

    @Test("F15: absurd fee answers are a typed refusal at verify and a failed settle, never a trap, nothing sent")
    func absurdFees() async throws {
        let server = try Self.hostileNode()
        defer { server.stop() }
        let client = JSONRPCClient(configuration: .init(url: server.url, maxRetries: 0))
        var options = ExactEVMFacilitator.Options()
        options.simulateInVerify = false
        options.receiptTimeout = .seconds(1)
        let chain = EVMFacilitatorChain(network: .baseSepolia, client: client, signers: [F.facilitatorKey])
        let facilitator = ExactEVMFacilitator(chains: [chain], options: options, clock: .fixed(F.now))
        let payment = try await F.payment()
        let verified = await facilitator.verify(payment, requirements: .v2(F.requirements()))
        #expect(verified.invalidReason == .implausibleNodeAnswer, "\(verified)")
        let settled = await facilitator.settle(payment, requirements: .v2(F.requirements()))
        #expect(!settled.success, "\(settled)")
        #expect(server.requests.contains { $0.method == "eth_sendRawTransaction" } == false)
    }
}
