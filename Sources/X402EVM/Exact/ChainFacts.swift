import X402

/// How long the facts an EVM facilitator reads about a chain are trusted.
///
/// The facts are the node's chain id, which contracts have code (the tokens, Multicall3), and each
/// token's EIP-712 domain (`name()`, `version()`, `DOMAIN_SEPARATOR()`). They change rarely, so they
/// are read once (the missing ones together, in one JSON-RPC batch) and read again after
/// ``refreshInterval``, or sooner when a payment disagrees with them. Balances and
/// `authorizationState` are never cached: every payment reads them afresh (in its simulation).
public struct ChainFactsPolicy: Sendable, Hashable {
    /// How long a fact read from the node is reused before it is read again (default 5 minutes).
    public var refreshInterval: Duration
    /// After a payment disagrees with a cached token domain, the domain is read again, but not
    /// more often than this per token (default 1 s), so mismatching payments cannot flood the node.
    public var mismatchRefreshGap: Duration

    public init(refreshInterval: Duration = .seconds(300), mismatchRefreshGap: Duration = .seconds(1)) {
        self.refreshInterval = refreshInterval
        self.mismatchRefreshGap = mismatchRefreshGap
    }
}

/// A token's EIP-712 domain as the token reports it; a member is `nil` when its call failed.
struct TokenDomain: Sendable, Hashable {
    var name: String?
    var version: String?
    var separator: Bytes32?
}

/// Facts about one chain, read once and refreshed on a schedule or on a mismatch (see
/// ``ChainFactsPolicy``). Missing facts are read together in one ``EthereumClient/read(_:)`` call.
actor ChainState {
    private let client: any EthereumClient
    let expectedChainID: UInt64
    let policy: ChainFactsPolicy
    private var chainIDConfirmedAt: ContinuousClock.Instant?
    /// Contracts seen with code, and when (absence is never cached: it is read again each time).
    private var contracts: [EthereumAddress: ContinuousClock.Instant] = [:]
    /// Whether Multicall3 has code, and when that was read.
    private var multicall: (present: Bool, at: ContinuousClock.Instant)?
    /// Each token's domain and when it was read (`nil` domain: the token did not answer `name()`).
    private var domains: [EthereumAddress: (domain: TokenDomain?, at: ContinuousClock.Instant)] = [:]
    /// Counts of node reads made (for tests and metrics): how many `read` batches were sent.
    private(set) var readBatches = 0

    init(client: any EthereumClient, expectedChainID: UInt64, policy: ChainFactsPolicy = ChainFactsPolicy()) {
        self.client = client
        self.expectedChainID = expectedChainID
        self.policy = policy
    }

    private func fresh(_ instant: ContinuousClock.Instant?) -> Bool {
        guard let instant else { return false }
        return ContinuousClock.now - instant < policy.refreshInterval
    }

    /// The node's chain id if it differs from the expected one; `nil` when they agree.
    ///
    /// With `token` (an accepted asset), every stale fact the verification will need is read in
    /// the same batch: the token's code and domain and Multicall3's code.
    func chainIDMismatch(prefetching token: EthereumAddress? = nil) async throws(EthereumClientError) -> UInt64? {
        var reads: [ChainRead] = []
        let chainIDSlot = fresh(chainIDConfirmedAt) ? nil : 0
        if chainIDSlot != nil { reads.append(.chainID) }
        var tokenSlot: Int?
        var multicallSlot: Int?
        if let token, !fresh(domains[token]?.at) {
            tokenSlot = reads.count
            reads += Self.tokenReads(token)
        }
        if !fresh(multicall?.at) {
            multicallSlot = reads.count
            reads.append(.code(EIP3009Calls.multicall3, .latest))
        }
        // Nothing stale, or only the optional facts with the chain id still confirmed: those are
        // read with the next chain id check, or lazily where they are needed.
        guard let chainIDSlot else {
            if tokenSlot != nil || multicallSlot != nil { await prefetch(reads, token: token, tokenSlot: tokenSlot, multicallSlot: multicallSlot) }
            return nil
        }
        let answers = await prefetch(reads, token: token, tokenSlot: tokenSlot, multicallSlot: multicallSlot)
        let actual: UInt64
        switch answers[chainIDSlot] {
        case .failure(let error): throw error
        case .success(let result):
            guard let value = result.uint64 else { throw .invalidResponse("eth_chainId answered a value that is not a chain id") }
            actual = value
        }
        if actual == expectedChainID {
            chainIDConfirmedAt = ContinuousClock.now
            return nil
        }
        chainIDConfirmedAt = nil
        return actual
    }

    /// Sends `reads` as one batch and records the token's and Multicall3's facts from it.
    @discardableResult
    private func prefetch(
        _ reads: [ChainRead], token: EthereumAddress?, tokenSlot: Int?, multicallSlot: Int?
    ) async -> [Result<ChainReadResult, EthereumClientError>] {
        readBatches += 1
        var answers = await client.read(reads)
        if answers.count != reads.count {
            answers = reads.map { _ in .failure(.invalidResponse("the node answered \(answers.count) of \(reads.count) reads")) }
        }
        if let token, let tokenSlot { record(token, Array(answers[tokenSlot..<(tokenSlot + 4)])) }
        if let multicallSlot, case .success(let result) = answers[multicallSlot], let code = result.bytes {
            multicall = (!code.isEmpty, ContinuousClock.now)
        }
        return answers
    }

    /// Whether `address` holds contract code (positive answers are cached).
    func hasCode(_ address: EthereumAddress) async throws(EthereumClientError) -> Bool {
        if fresh(contracts[address]) { return true }
        readBatches += 1
        let code = try await client.code(at: address, at: .latest)
        if !code.isEmpty { contracts[address] = ContinuousClock.now } else { contracts[address] = nil }
        return !code.isEmpty
    }

    /// Whether Multicall3 is deployed at its canonical address (`false` when it cannot be read).
    func hasMulticall3() async -> Bool {
        if let multicall, fresh(multicall.at) { return multicall.present }
        readBatches += 1
        guard let code = try? await client.code(at: EIP3009Calls.multicall3, at: .latest) else { return false }
        multicall = (!code.isEmpty, ContinuousClock.now)
        return !code.isEmpty
    }

    /// The token's domain as cached; read again when stale, or when it disagrees with what a
    /// payment names (`expectedName`/`expectedVersion`) and the last read is older than
    /// ``ChainFactsPolicy/mismatchRefreshGap``. `nil` when the token's domain cannot be read.
    func domain(of token: EthereumAddress, expectedName: String, expectedVersion: String) async -> TokenDomain? {
        if let cached = domains[token], fresh(cached.at) {
            let agrees = cached.domain == nil || (cached.domain?.name == expectedName && cached.domain?.version == expectedVersion)
            if agrees || ContinuousClock.now - cached.at < policy.mismatchRefreshGap { return cached.domain }
        }
        readBatches += 1
        record(token, await client.read(Self.tokenReads(token)))
        return domains[token]?.domain
    }

    private static func isNodeAnswer(_ error: EthereumClientError) -> Bool {
        if case .node = error { return true }
        return false
    }

    /// Code, `name()`, `version()`, `DOMAIN_SEPARATOR()` of a token (in this order).
    static func tokenReads(_ token: EthereumAddress) -> [ChainRead] {
        [
            .code(token, .latest), .call(CallRequest(to: token, data: EIP3009Calls.name), .latest),
            .call(CallRequest(to: token, data: EIP3009Calls.version), .latest),
            .call(CallRequest(to: token, data: EIP3009Calls.domainSeparator), .latest),
        ]
    }

    /// Stores the answers to ``tokenReads(_:)``. The domain is kept only when `name()` answered.
    private func record(_ token: EthereumAddress, _ answers: [Result<ChainReadResult, EthereumClientError>]) {
        guard answers.count == 4 else { return }
        let now = ContinuousClock.now
        if case .success(let result) = answers[0], let code = result.bytes {
            if code.isEmpty { contracts[token] = nil } else { contracts[token] = now }
        }
        // A read that did not reach the node is no fact: try again next time.
        if answers.allSatisfy({ if case .failure(let error) = $0 { !Self.isNodeAnswer(error) } else { false } }) {
            return
        }
        func output(_ index: Int) -> [UInt8]? { (try? answers[index].get())?.bytes }
        guard let name = output(1).flatMap(ExactEVMFacilitator.decodeString) else {
            domains[token] = (nil, now)
            return
        }
        let version = output(2).flatMap(ExactEVMFacilitator.decodeString)
        let separator = output(3).flatMap { $0.count == 32 ? Bytes32($0) : nil }
        domains[token] = (TokenDomain(name: name, version: version, separator: separator), now)
    }
}
