import Foundation
import Testing
import X402
import X402EVMRPC

@testable import X402EVM

/// Coalesced simulation (one Multicall3 `aggregate3` `eth_call` for many verifications) gives every
/// payment exactly the answer one-by-one simulation gives, for every failure class that reaches
/// the simulation, including payments that interact inside a batch.
@Suite("coalesced simulation on the devnet", .devnet)
struct CoalescedSimulationTests {
    /// One-by-one and coalesced facilitators on the same chain, with the same clock and key.
    struct Pair {
        let alone: ExactEVMFacilitator
        let together: ExactEVMFacilitator
        let coalescer: SimulationCoalescer

        init(devnet: Devnet, key: PrivateKey, now: UInt64, batch: Int) throws {
            let network = try #require(Network(devnet.network))
            func make(_ coalesce: Bool) -> ExactEVMFacilitator {
                var options = ExactEVMFacilitator.Options()
                options.coalesceSimulations = coalesce
                // Long window, exact batch size: the batch leaves when every payment is in it.
                options.simulationWindow = .seconds(30)
                options.maximumSimulationBatch = batch
                let chain = EVMFacilitatorChain(network: network, client: devnet.client, signers: [key])
                return ExactEVMFacilitator(chains: [chain], options: options, clock: .fixed(now))
            }
            alone = make(false)
            together = make(true)
            coalescer = try #require(together.coalescers[network])
        }

        /// Verifies every case one by one on `alone` and all at once on `together`; compares.
        func compare(_ cases: [(String, AnyPaymentPayload, PaymentRequirements)]) async throws -> [VerifyResponse] {
            var expected: [VerifyResponse] = []
            for (_, payment, requirements) in cases { expected.append(await alone.verify(payment, requirements: .v2(requirements))) }
            let together = self.together
            let actual = await withTaskGroup(of: (Int, VerifyResponse).self) { group in
                for (index, (_, payment, requirements)) in cases.enumerated() {
                    group.addTask { (index, await together.verify(payment, requirements: .v2(requirements))) }
                }
                var answers = [VerifyResponse?](repeating: nil, count: cases.count)
                for await (index, answer) in group { answers[index] = answer }
                return answers.compactMap { $0 }
            }
            #expect(actual.count == cases.count)
            for (index, (label, _, _)) in cases.enumerated() where index < actual.count {
                #expect(actual[index].isValid == expected[index].isValid, "\(label)")
                #expect(actual[index].invalidReason == expected[index].invalidReason, "\(label): \(actual[index]) vs \(expected[index])")
                #expect(actual[index].invalidMessage == expected[index].invalidMessage, "\(label)")
                #expect(actual[index].payer == expected[index].payer, "\(label)")
            }
            #expect(await coalescer.batchesSent >= 1)
            return expected
        }
    }

    static func chainNow(_ devnet: Devnet) async throws -> UInt64 {
        let time = try await devnet.client.request(method: "devnet_time")
        return try #require(time["chainClock"]?.numberValue?.uint64Value)
    }

    static func requirements(
        _ devnet: Devnet, payTo: EthereumAddress, amount: String, name: String = "USDC", version: String = "2"
    ) throws
        -> PaymentRequirements
    {
        PaymentRequirements(
            scheme: "exact", network: try #require(Network(devnet.network)), amount: amount, asset: devnet.token.checksummed,
            payTo: payTo.checksummed, maxTimeoutSeconds: 120, extra: ["name": .string(name), "version": .string(version)])
    }

    static func pay(_ key: PrivateKey, _ requirements: PaymentRequirements, now: UInt64) async throws -> AnyPaymentPayload {
        let payload = try await ExactEVMClient(signer: key, clock: .fixed(now)).signedPayload(for: requirements)
        return .v2(PaymentPayload(accepted: requirements, payload: payload.json))
    }

    @Test("every failure class, and payments that interact within a batch: same answers one by one and coalesced")
    func sameAnswers() async throws {
        let devnet = try await Devnet.shared()
        async let facilitatorAccount = devnet.freshAccount()
        async let richA = devnet.freshAccount(eth: .zero, usdc: 1_500)
        async let payerB = devnet.freshAccount(eth: .zero, usdc: 1_000)
        async let payerD = devnet.freshAccount(eth: .zero, usdc: 1_000)
        let emptyC = DevnetAccount(role: "fresh", key: .random())
        let (key, a, b, d) = (try await facilitatorAccount.key, try await richA, try await payerB, try await payerD)
        let payee = devnet.randomAddress()
        let now = try await Self.chainNow(devnet)

        // A nonce used on-chain: settle one of D's payments first.
        let usedRequirements = try Self.requirements(devnet, payTo: payee, amount: "100")
        let used = try await Self.pay(d.key, usedRequirements, now: now)
        let settler = try Pair(devnet: devnet, key: key, now: now, batch: 2).alone
        let settled = await settler.settle(used, requirements: .v2(usedRequirements))
        try #require(settled.success, "\(settled)")

        let pays1000 = try Self.requirements(devnet, payTo: payee, amount: "1000")
        let first = try await Self.pay(a.key, pays1000, now: now)
        let toC = try Self.requirements(devnet, payTo: emptyC.address, amount: "1000")
        let renamed = try Self.requirements(devnet, payTo: payee, amount: "10", name: "USD Coin")
        let reversioned = try Self.requirements(devnet, payTo: payee, amount: "10", version: "1")
        let tooMuch = try Self.requirements(devnet, payTo: payee, amount: "5000")
        let cases: [(String, AnyPaymentPayload, PaymentRequirements)] = [
            ("valid", first, pays1000),
            // Same payer again: alone it passes (1500 ≥ 1000); in the batch the first took 1000.
            ("second debit of the same payer", try await Self.pay(a.key, pays1000, now: now), pays1000),
            // The very same authorization twice: both pass alone.
            ("duplicate authorization", first, pays1000),
            ("insufficient balance", try await Self.pay(b.key, tooMuch, now: now), tooMuch),
            ("nonce already used", used, usedRequirements),
            ("token name mismatch", try await Self.pay(b.key, renamed, now: now), renamed),
            ("token version mismatch", try await Self.pay(b.key, reversioned, now: now), reversioned),
            // B pays C, and C (holding nothing) pays on: alone C fails, whatever B's credit does in a batch.
            ("credit to a payer", try await Self.pay(b.key, toC, now: now), toC),
            ("payer credited in the batch", try await Self.pay(emptyC.key, pays1000, now: now), pays1000),
        ]
        let pair = try Pair(devnet: devnet, key: key, now: now, batch: cases.count)
        let answers = try await pair.compare(cases)
        // At least A's first transfer and D's used nonce are answered by the batch itself.
        #expect(await pair.coalescer.answeredInBatch >= 2)
        // The one-by-one answers are the expected classes.
        #expect(
            answers.map(\.invalidReason) == [
                nil, nil, nil, .exactEVMInsufficientBalance, .exactEVMNonceAlreadyUsed, .exactEVMTokenNameMismatch,
                .exactEVMTokenVersionMismatch, nil, .exactEVMInsufficientBalance,
            ])
    }

    @Test("expired and not-yet-valid on chain (the facilitator's clock is off): same answers both ways")
    func timeWindow() async throws {
        let devnet = try await Devnet.shared()
        async let facilitatorAccount = devnet.freshAccount()
        async let p1 = devnet.freshAccount(eth: .zero, usdc: 1_000)
        async let p2 = devnet.freshAccount(eth: .zero, usdc: 1_000)
        let (key, first, second) = (try await facilitatorAccount.key, try await p1, try await p2)
        let payee = devnet.randomAddress()
        let now = try await Self.chainNow(devnet)
        let requirements = try Self.requirements(devnet, payTo: payee, amount: "10")
        for skew in [-3000, 3000] {
            let clock = UInt64(Int64(now) + Int64(skew))
            let cases: [(String, AnyPaymentPayload, PaymentRequirements)] = [
                ("skew \(skew) payer 1", try await Self.pay(first.key, requirements, now: clock), requirements),
                ("skew \(skew) payer 2", try await Self.pay(second.key, requirements, now: clock), requirements),
            ]
            let pair = try Pair(devnet: devnet, key: key, now: clock, batch: 2)
            let answers = try await pair.compare(cases)
            #expect(await pair.coalescer.answeredInBatch == 2)
            #expect(answers.allSatisfy { !$0.isValid && $0.invalidReason == .exactEVMSimulationFailed }, "\(answers)")
        }
    }

    @Test("without Multicall3 code, every simulation runs alone with the same answers")
    func noMulticall() async throws {
        let devnet = try await Devnet.shared()
        let facts = ChainState(client: NoMulticallClient(inner: devnet.client), expectedChainID: devnet.chainID)
        let coalescer = SimulationCoalescer(
            client: devnet.client, state: facts, caller: devnet.facilitator.address, window: .milliseconds(1), maximumBatch: 8)
        let item = SimulationCoalescer.Item(token: devnet.token, payer: devnet.payer.address, payee: devnet.payee.address, calldata: [])
        #expect(await coalescer.verdicts(for: [item, item]) == [.alone, .alone])
        #expect(await coalescer.batchesSent == 0)
    }

    /// The devnet, except that Multicall3 has no code.
    struct NoMulticallClient: EthereumClient {
        let inner: JSONRPCClient
        func chainID() async throws(EthereumClientError) -> UInt64 { try await inner.chainID() }
        func blockNumber() async throws(EthereumClientError) -> UInt64 { try await inner.blockNumber() }
        func transactionCount(of address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> UInt64 {
            try await inner.transactionCount(of: address, at: block)
        }
        func balance(of address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> UInt256 {
            try await inner.balance(of: address, at: block)
        }
        func code(at address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> [UInt8] {
            address == EIP3009Calls.multicall3 ? [] : try await inner.code(at: address, at: block)
        }
        func call(_ request: CallRequest, at block: BlockTag) async throws(EthereumClientError) -> [UInt8] {
            try await inner.call(request, at: block)
        }
        func estimateGas(_ request: CallRequest) async throws(EthereumClientError) -> UInt64 { try await inner.estimateGas(request) }
        func sendRawTransaction(_ raw: [UInt8]) async throws(EthereumClientError) -> Bytes32 { try await inner.sendRawTransaction(raw) }
        func transactionReceipt(_ hash: Bytes32) async throws(EthereumClientError) -> TransactionReceipt? { try await inner.transactionReceipt(hash) }
        func gasPrice() async throws(EthereumClientError) -> UInt256 { try await inner.gasPrice() }
        func maxPriorityFeePerGas() async throws(EthereumClientError) -> UInt256 { try await inner.maxPriorityFeePerGas() }
        func feeHistory(blockCount: Int, newestBlock: BlockTag, rewardPercentiles: [Double]) async throws(EthereumClientError) -> FeeHistory {
            try await inner.feeHistory(blockCount: blockCount, newestBlock: newestBlock, rewardPercentiles: rewardPercentiles)
        }
    }
}
