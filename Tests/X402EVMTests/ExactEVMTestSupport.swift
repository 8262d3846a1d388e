import Foundation
import X402

@testable import X402EVM

/// A scriptable, fault-injecting `EthereumClient` with a tiny nonce-keeping "mempool".
///
/// Sent transactions are decoded; a nonce equal to the sender's next nonce is accepted (and queued
/// ones behind it are promoted), a lower one fails with "nonce too low", a higher one is queued.
final class ScriptedChain: EthereumClient, @unchecked Sendable {
    private let lock = NSLock()

    var chainIDValue: UInt64 = 84532
    var codes: [EthereumAddress: [UInt8]] = [:]
    /// Answers `eth_call`; default: success with no data.
    var onCall: @Sendable (CallRequest, BlockTag) throws(EthereumClientError) -> [UInt8] = { _, _ in [] }
    /// Injected failures for the next sends, consumed in order (`nil` = behave normally).
    var sendFaults: [SendFault] = []
    /// Whether a mined transaction gets a receipt (status 1, with `receiptLogs`).
    var mineTransactions = true
    var receiptSucceeds = true
    var receiptLogs: @Sendable (SignedTransaction) -> [EventLog] = { _ in [] }
    var baseFee = UInt256(1_000_000)
    var tip = UInt256(1_000_000)

    private(set) var nextNonce: [EthereumAddress: UInt64] = [:]
    private var queued: [EthereumAddress: [UInt64: SignedTransaction]] = [:]
    private(set) var accepted: [SignedTransaction] = []
    private var receipts: [Bytes32: TransactionReceipt] = [:]
    private(set) var sendAttempts = 0
    private(set) var transactionCountReads = 0
    private var block: UInt64 = 100

    enum SendFault {
        /// Fails with this error without looking at the transaction.
        case fail(EthereumClientError)
        /// Accepts the transaction but answers with this error (a lost answer).
        case acceptThenFail(EthereumClientError)
    }

    func with<R, E: Error>(_ body: (ScriptedChain) throws(E) -> R) throws(E) -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(self)
    }

    func setNonce(_ nonce: UInt64, for address: EthereumAddress) { with { $0.nextNonce[address] = nonce } }
    var acceptedTransactions: [SignedTransaction] { with { $0.accepted } }
    var sendCount: Int { with { $0.sendAttempts } }

    func chainID() async throws(EthereumClientError) -> UInt64 { with { $0.chainIDValue } }
    func blockNumber() async throws(EthereumClientError) -> UInt64 { with { $0.block } }
    func transactionCount(of address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> UInt64 {
        with {
            $0.transactionCountReads += 1
            return $0.nextNonce[address] ?? 0
        }
    }
    func balance(of address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> UInt256 { .zero }
    func code(at address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> [UInt8] { with { $0.codes[address] ?? [] } }
    func call(_ request: CallRequest, at block: BlockTag) async throws(EthereumClientError) -> [UInt8] {
        let handler = with { $0.onCall }
        return try handler(request, block)
    }
    /// Answers `eth_estimateGas`; default: 90 000 for everything.
    var onEstimate: @Sendable (CallRequest) throws(EthereumClientError) -> UInt64 = { _ in 90_000 }
    func estimateGas(_ request: CallRequest) async throws(EthereumClientError) -> UInt64 {
        let handler = with { $0.onEstimate }
        return try handler(request)
    }
    func gasPrice() async throws(EthereumClientError) -> UInt256 { with { $0.baseFee + $0.tip } }
    func maxPriorityFeePerGas() async throws(EthereumClientError) -> UInt256 { with { $0.tip } }
    func feeHistory(blockCount: Int, newestBlock: BlockTag, rewardPercentiles: [Double]) async throws(EthereumClientError) -> FeeHistory {
        with { FeeHistory(oldestBlock: $0.block, baseFeePerGas: [$0.baseFee, $0.baseFee], gasUsedRatio: [0.5], reward: []) }
    }
    func transactionReceipt(_ hash: Bytes32) async throws(EthereumClientError) -> TransactionReceipt? { with { $0.receipts[hash] } }

    /// Per nonce: how many sends of it fail with a transport error (never delivered), each after `faultDelay`.
    var nonceFaults: [UInt64: Int] = [:]
    var faultDelay: Duration = .zero

    func sendRawTransaction(_ raw: [UInt8]) async throws(EthereumClientError) -> Bytes32 {
        if let tx = try? SignedTransaction(rawBytes: raw), case .eip1559(let body) = tx.body {
            let fails: Bool = with { chain in
                guard let remaining = chain.nonceFaults[body.nonce], remaining > 0 else { return false }
                chain.nonceFaults[body.nonce] = remaining - 1
                chain.sendAttempts += 1
                return true
            }
            if fails {
                try? await Task.sleep(for: faultDelay)
                throw .transport("injected: never delivered")
            }
        }
        return try with { chain throws(EthereumClientError) -> Bytes32 in
            chain.sendAttempts += 1
            var after: EthereumClientError?
            if !chain.sendFaults.isEmpty {
                switch chain.sendFaults.removeFirst() {
                case .fail(let error): throw error
                case .acceptThenFail(let error): after = error
                }
            }
            guard let tx = try? SignedTransaction(rawBytes: raw) else { throw .node(code: -32000, message: "invalid transaction", data: nil) }
            if chain.accepted.contains(where: { $0.hash == tx.hash }) || chain.queued[tx.from]?.values.contains(where: { $0.hash == tx.hash }) == true
            {
                throw .node(code: -32000, message: "already known", data: nil)
            }
            guard case .eip1559(let body) = tx.body else { throw .node(code: -32000, message: "unsupported", data: nil) }
            let next = chain.nextNonce[tx.from] ?? 0
            if body.nonce < next { throw .node(code: -32000, message: "nonce too low: next nonce \(next), tx nonce \(body.nonce)", data: nil) }
            if body.nonce > next {
                chain.queued[tx.from, default: [:]][body.nonce] = tx
            } else {
                chain.execute(tx)
                var n = next + 1
                while let waiting = chain.queued[tx.from]?.removeValue(forKey: n) {
                    chain.execute(waiting)
                    n += 1
                }
            }
            if let after { throw after }
            return tx.hash
        }
    }

    /// Polls `condition` every 10 ms for up to 5 s.
    func waitFor(_ condition: (ScriptedChain) -> Bool) async throws {
        for _ in 0..<500 {
            if with({ condition($0) }) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw EthereumClientError.timeout
    }

    /// A transaction to a key address gives code to the value address (a factory deploying a wallet).
    var deployments: [EthereumAddress: EthereumAddress] = [:]

    private func execute(_ tx: SignedTransaction) {
        guard case .eip1559(let body) = tx.body else { return }
        nextNonce[tx.from] = body.nonce + 1
        if let to = body.to, let wallet = deployments[to] { codes[wallet] = [0x60, 0x00] }
        accepted.append(tx)
        if mineTransactions {
            block += 1
            receipts[tx.hash] = TransactionReceipt(
                transactionHash: tx.hash, succeeded: receiptSucceeds, blockNumber: block, from: tx.from, to: body.to, gasUsed: 80_000,
                logs: receiptSucceeds ? receiptLogs(tx) : [])
        }
    }
}

/// Fixtures shared by the `exact` EVM unit tests.
enum ExactFixture {
    static let payerKey = try! PrivateKey(hex: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
    static let otherKey = try! PrivateKey(hex: "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a")
    static let facilitatorKey = try! PrivateKey(hex: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
    static let payTo = try! EthereumAddress("0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f")
    static let token = try! EthereumAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e")
    static let now: UInt64 = 1_800_000_000

    static func requirements(
        amount: String = "10000", network: Network = .baseSepolia, payTo: String = ExactFixture.payTo.lowercased,
        asset: String = ExactFixture.token.checksummed, extra: JSONObject? = ["name": "USDC", "version": "2"], timeout: Int? = 60
    ) -> PaymentRequirements {
        PaymentRequirements(scheme: "exact", network: network, amount: amount, asset: asset, payTo: payTo, maxTimeoutSeconds: timeout, extra: extra)
    }

    static func client(_ key: PrivateKey = payerKey, now: UInt64 = ExactFixture.now) -> ExactEVMClient {
        ExactEVMClient(signer: key, clock: .fixed(now))
    }

    /// A signed v2 payment for `requirements`.
    static func payment(
        _ requirements: PaymentRequirements = ExactFixture.requirements(), key: PrivateKey = payerKey
    ) async throws -> AnyPaymentPayload {
        let payload = try await client(key).signedPayload(for: requirements)
        return .v2(PaymentPayload(accepted: requirements, payload: payload.json))
    }

    static func domain(chainID: UInt64 = 84532, token: EthereumAddress = ExactFixture.token) -> EIP712Domain {
        EIP712Domain(name: "USDC", version: "2", chainId: UInt256(chainID), verifyingContract: token)
    }

    static func facilitator(
        chain: ScriptedChain, simulate: Bool = false, now: UInt64 = ExactFixture.now,
        configure: (inout ExactEVMFacilitator.Options) -> Void = { _ in }
    ) -> ExactEVMFacilitator {
        var options = ExactEVMFacilitator.Options()
        options.simulateInVerify = simulate
        options.receiptTimeout = .seconds(2)
        configure(&options)
        let evmChain = EVMFacilitatorChain(
            network: .baseSepolia, client: chain, signers: [facilitatorKey], receiptPollInterval: .milliseconds(10))
        return ExactEVMFacilitator(chains: [evmChain], options: options, clock: .fixed(now))
    }

    /// ABI encoding of a `tryAggregate` answer.
    static func tryAggregateAnswer(_ results: [(Bool, [UInt8])]) -> [UInt8] {
        try! ABI.encode([.array(results.map { .tuple([.bool($0.0), .bytes($0.1)]) })], as: ["(bool,bytes)[]"])
    }

    static func word(_ value: UInt256) -> [UInt8] { try! ABI.encode([.uint(value)], as: ["uint256"]) }
    static func bool(_ value: Bool) -> [UInt8] { try! ABI.encode([.bool(value)], as: ["bool"]) }
    static func string(_ value: String) -> [UInt8] { try! ABI.encode([.string(value)], as: ["string"]) }

    /// A revert as a node reports it.
    static func revert(_ message: String) -> EthereumClientError {
        let data = RevertReason.errorSelector + (try! ABI.encode([.string(message)], as: ["string"]))
        return .node(code: 3, message: "execution reverted: \(message)", data: data)
    }

    /// The Transfer log a successful transferWithAuthorization emits, read from the calldata.
    static func transferLogs(_ tx: SignedTransaction) -> [EventLog] {
        guard case .eip1559(let body) = tx.body, let to = body.to, body.data.count >= 4 + 96,
            let values = try? ABI.decode(["address", "address", "uint256"], from: body.data[4..<(4 + 96)]),
            let from = values[0].addressValue, let recipient = values[1].addressValue, let value = values[2].uintValue
        else { return [] }
        return [EventLog(address: to, topics: [EIP3009Calls.transferTopic, from.word, recipient.word], data: value.bigEndianBytes)]
    }
}
