import Foundation
import NIOConcurrencyHelpers
import Testing
import X402

@testable import X402EVM

/// Chain facts are read once (together) and refreshed on a schedule or a mismatch; balances and
/// authorization state are never cached.
@Suite("EVM chain facts cache")
struct ChainFactsTests {
    typealias F = ExactFixture

    /// Forwards to a ``ScriptedChain`` and counts node calls by method (the default `read`
    /// performs batched reads one by one, so each still counts).
    struct CountingClient: EthereumClient {
        let inner: ScriptedChain
        let counts = NIOLockedValueBox<[String: Int]>([:])

        func count(_ method: String) { counts.withLockedValue { $0[method, default: 0] += 1 } }
        subscript(_ method: String) -> Int { counts.withLockedValue { $0[method] ?? 0 } }
        var total: Int { counts.withLockedValue { $0.values.reduce(0, +) } }

        func chainID() async throws(EthereumClientError) -> UInt64 {
            count("eth_chainId")
            return try await inner.chainID()
        }
        func blockNumber() async throws(EthereumClientError) -> UInt64 { try await inner.blockNumber() }
        func transactionCount(of address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> UInt64 {
            try await inner.transactionCount(of: address, at: block)
        }
        func balance(of address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> UInt256 {
            try await inner.balance(of: address, at: block)
        }
        func code(at address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> [UInt8] {
            count("eth_getCode")
            return try await inner.code(at: address, at: block)
        }
        func call(_ request: CallRequest, at block: BlockTag) async throws(EthereumClientError) -> [UInt8] {
            count("eth_call")
            if request.data == EIP3009Calls.name { count("name") }
            return try await inner.call(request, at: block)
        }
        func estimateGas(_ request: CallRequest) async throws(EthereumClientError) -> UInt64 { try await inner.estimateGas(request) }
        func sendRawTransaction(_ raw: [UInt8]) async throws(EthereumClientError) -> Bytes32 { try await inner.sendRawTransaction(raw) }
        func transactionReceipt(_ hash: Bytes32) async throws(EthereumClientError) -> TransactionReceipt? { try await inner.transactionReceipt(hash) }
        func gasPrice() async throws(EthereumClientError) -> UInt256 { try await inner.gasPrice() }
        func maxPriorityFeePerGas() async throws(EthereumClientError) -> UInt256 {
            count("eth_maxPriorityFeePerGas")
            return try await inner.maxPriorityFeePerGas()
        }
        func feeHistory(blockCount: Int, newestBlock: BlockTag, rewardPercentiles: [Double]) async throws(EthereumClientError) -> FeeHistory {
            count("eth_feeHistory")
            return try await inner.feeHistory(blockCount: blockCount, newestBlock: newestBlock, rewardPercentiles: rewardPercentiles)
        }
    }

    /// A chain whose token answers `name()` with `tokenName` (changeable), `version()` "2", and
    /// reverts every transfer simulation; Multicall3 diagnoses with a funded, unused authorization.
    final class Token: @unchecked Sendable {
        let lock = NSLock()
        var name = "USDC"
        var tokenName: String {
            get { lock.withLock { name } }
            set { lock.withLock { name = newValue } }
        }
    }

    static func chain(token: Token, simulationReverts: Bool) -> ScriptedChain {
        let chain = ScriptedChain()
        chain.codes[F.token] = [0x60]
        chain.codes[EIP3009Calls.multicall3] = [0x60]
        chain.onCall = { request, _ throws(EthereumClientError) in
            if request.to == EIP3009Calls.multicall3 {
                // Diagnosis: balanceOf, [name, version,] authorizationState.
                let calls = (try? ABI.decode(["bool", "(address,bytes)[]"], from: request.data.dropFirst(4)))?[1].elements?.count ?? 0
                var results: [(Bool, [UInt8])] = [(true, F.word(1_000_000))]
                if calls == 4 { results += [(true, F.string(token.tokenName)), (true, F.string("2"))] }
                results.append((true, F.bool(false)))
                return F.tryAggregateAnswer(results)
            }
            if request.data == EIP3009Calls.name { return F.string(token.tokenName) }
            if request.data == EIP3009Calls.version { return F.string("2") }
            if request.data == EIP3009Calls.domainSeparator { return Array(F.domain().separator.bytes) }
            if simulationReverts { throw F.revert("FiatTokenV2: invalid signature") }
            return []
        }
        return chain
    }

    static func facilitator(_ client: CountingClient, facts: ChainFactsPolicy = ChainFactsPolicy()) -> ExactEVMFacilitator {
        var options = ExactEVMFacilitator.Options()
        options.simulateInVerify = true
        options.coalesceSimulations = false
        let chain = EVMFacilitatorChain(
            network: .baseSepolia, client: client, signers: [F.facilitatorKey], receiptPollInterval: .milliseconds(10), facts: facts)
        return ExactEVMFacilitator(chains: [chain], options: options, clock: .fixed(F.now))
    }

    @Test("ten verifications read chain id, token code and fees once: one simulation each, nothing else")
    func readOnce() async throws {
        let client = CountingClient(inner: Self.chain(token: Token(), simulationReverts: false))
        let facilitator = Self.facilitator(client)
        let payment = try await F.payment()
        for _ in 0..<10 {
            #expect(await facilitator.verify(payment, requirements: .v2(F.requirements())).isValid)
        }
        #expect(client["eth_chainId"] == 1)
        #expect(client["eth_getCode"] == 2)  // the token and Multicall3, in the first verification's batch
        #expect(client["eth_feeHistory"] == 1)
        #expect(client["eth_maxPriorityFeePerGas"] == 1)
        #expect(client["name"] == 1)  // the token's domain, read with the first batch
        #expect(client["eth_call"] == 10 + 3)  // ten simulations + name, version, DOMAIN_SEPARATOR once
    }

    @Test("facts are read again after the refresh interval")
    func schedule() async throws {
        let client = CountingClient(inner: Self.chain(token: Token(), simulationReverts: false))
        let facilitator = Self.facilitator(client, facts: ChainFactsPolicy(refreshInterval: .zero))
        let payment = try await F.payment()
        for _ in 0..<3 { _ = await facilitator.verify(payment, requirements: .v2(F.requirements())) }
        #expect(client["eth_chainId"] == 3)
        #expect(client["name"] == 3)
    }

    @Test("a payment naming another token name than the cached one makes the domain be read again")
    func mismatchRefreshes() async throws {
        let token = Token()
        let client = CountingClient(inner: Self.chain(token: token, simulationReverts: true))
        let facilitator = Self.facilitator(client, facts: ChainFactsPolicy(mismatchRefreshGap: .zero))
        let renamed = F.requirements(extra: ["name": "USD Coin", "version": "2"])
        let payment = try await F.payment(renamed)
        // Cached "USDC" disagrees with "USD Coin": read again, still "USDC": name mismatch.
        let first = await facilitator.verify(payment, requirements: .v2(renamed))
        #expect(first.invalidReason == .exactEVMTokenNameMismatch)
        #expect(client["name"] == 2)
        // The token is renamed on-chain: the next mismatch reads it again and no longer blames the name.
        token.tokenName = "USD Coin"
        let second = await facilitator.verify(payment, requirements: .v2(renamed))
        #expect(second.invalidReason == .exactEVMSimulationFailed)
        #expect(client["name"] == 3)
        // Now cached "USD Coin" agrees: no further read.
        _ = await facilitator.verify(payment, requirements: .v2(renamed))
        #expect(client["name"] == 3)
    }

    @Test("a mismatch refresh is rate-limited per token")
    func mismatchGap() async throws {
        let client = CountingClient(inner: Self.chain(token: Token(), simulationReverts: true))
        let facilitator = Self.facilitator(client, facts: ChainFactsPolicy(mismatchRefreshGap: .seconds(3600)))
        let renamed = F.requirements(extra: ["name": "USD Coin", "version": "2"])
        let payment = try await F.payment(renamed)
        for _ in 0..<5 {
            #expect(await facilitator.verify(payment, requirements: .v2(renamed)).invalidReason == .exactEVMTokenNameMismatch)
        }
        #expect(client["name"] == 1)
    }

    @Test("a node on the wrong chain is refused and asked again on the next payment, never cached as right")
    func chainIDMismatch() async throws {
        let inner = Self.chain(token: Token(), simulationReverts: false)
        inner.chainIDValue = 1
        let client = CountingClient(inner: inner)
        let facilitator = Self.facilitator(client)
        let payment = try await F.payment()
        #expect(await facilitator.verify(payment, requirements: .v2(F.requirements())).invalidReason == .invalidNetwork)
        inner.with { $0.chainIDValue = 84532 }
        #expect(await facilitator.verify(payment, requirements: .v2(F.requirements())).isValid)
        #expect(client["eth_chainId"] == 2)
    }

    @Test("balances and authorization state are read for every payment: each failed simulation diagnoses live")
    func neverCached() async throws {
        let client = CountingClient(inner: Self.chain(token: Token(), simulationReverts: true))
        let facilitator = Self.facilitator(client)
        let payment = try await F.payment()
        for _ in 0..<3 { _ = await facilitator.verify(payment, requirements: .v2(F.requirements())) }
        // 3 simulations + 3 diagnoses (balanceOf + authorizationState, domain from cache) + 3 domain reads once.
        #expect(client["eth_call"] == 3 + 3 + 3)
    }
}
