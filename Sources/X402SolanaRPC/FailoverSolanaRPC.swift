public import X402
public import X402EVMRPC
public import X402Solana

/// A `SolanaRPC` over several nodes of one cluster: each request goes to the first node in
/// service, and a node that fails is taken out of service and tried again later (the rules of
/// `EndpointRotation`, as the EVM `FailoverEthereumClient` follows them).
///
/// * A node is put in service only after its `getGenesisHash` starts with
///   ``Options/expectedCluster`` (the reference of the `solana:` CAIP-2 id): a node of another
///   cluster — devnet behind a mainnet URL — is never used.
/// * A timeout, an unreachable node or an unusable answer takes the node out; a JSON-RPC error
///   (a failed simulation, a refused transaction) is the node's answer and is returned.
///
/// `sendTransaction` fails over with the same wire bytes: a Solana transaction is identified by
/// its first signature and lands at most once, whichever nodes it reached.
public struct FailoverSolanaRPC: SolanaRPC {
    /// Failover settings.
    public struct Options: Sendable, Hashable {
        /// The prefix every node's genesis hash must have (`nil`: not checked).
        public var expectedCluster: String?
        /// How long a failed node stays out of service before it is checked again (default 30 s).
        public var outOfServiceFor: Duration

        /// Settings for the cluster whose genesis hash starts with `expectedCluster`.
        public init(expectedCluster: String?, outOfServiceFor: Duration = .seconds(30)) {
            self.expectedCluster = expectedCluster
            self.outOfServiceFor = outOfServiceFor
        }
    }

    public let options: Options
    let endpoints: [any SolanaRPC]
    private let rotation: EndpointRotation

    /// A client over `endpoints` (at least one), preferred in the order given.
    public init(endpoints: [any SolanaRPC], options: Options) {
        precondition(!endpoints.isEmpty, "a failover client needs at least one endpoint")
        self.endpoints = endpoints
        self.options = options
        self.rotation = EndpointRotation(count: endpoints.count, outOfServiceFor: options.outOfServiceFor)
    }

    /// A client over JSON-RPC nodes at `urls`, each with `configuration`'s settings but its own
    /// URL; retries within one node are lowered to one (failing over is the better retry).
    public init(urls: [String], configuration: JSONRPCClient.Configuration, options: Options) {
        let clients = urls.map { url -> any SolanaRPC in
            var each = configuration
            each.url = url
            each.maxRetries = min(each.maxRetries, 1)
            return SolanaJSONRPCClient(configuration: each)
        }
        self.init(endpoints: clients, options: options)
    }

    /// Each node's standing, in the order given at initialisation.
    public var standings: [EndpointHealth] { rotation.standings }

    /// A fault of the node (it is taken out), as opposed to its answer.
    static func isFault(_ error: SolanaRPCError) -> Bool {
        if case .node = error.code { return false }
        return true
    }

    private func check(_ index: Int) async -> String? {
        guard let expected = options.expectedCluster else { return nil }
        do {
            let hash = try await endpoints[index].genesisHash()
            return hash.hasPrefix(expected) ? nil : "serves the cluster \(hash.prefix(32)), not \(expected)"
        } catch {
            return "cluster check failed: \(error)"
        }
    }

    func route<T: Sendable>(_ body: (any SolanaRPC) async throws(SolanaRPCError) -> T) async throws(SolanaRPCError) -> T {
        try await rotation.route(
            check: { await check($0) }, isFault: Self.isFault,
            unavailable: { index in
                SolanaRPCError(
                    .transport,
                    index.map { "node \($0 + 1) is not on the expected cluster or did not answer" } ?? "no node of this cluster is in service")
            }
        ) { (index: Int) async throws(SolanaRPCError) -> T in try await body(endpoints[index]) }
    }

    // MARK: SolanaRPC

    public func latestBlockhash(commitment: SolanaCommitment) async throws(SolanaRPCError) -> SolanaBlockhash {
        try await route { n throws(SolanaRPCError) in try await n.latestBlockhash(commitment: commitment) }
    }
    public func accountInfo(_ address: String, commitment: SolanaCommitment) async throws(SolanaRPCError) -> SolanaAccountInfo? {
        try await route { n throws(SolanaRPCError) in try await n.accountInfo(address, commitment: commitment) }
    }
    public func accountInfos(_ addresses: [String], commitment: SolanaCommitment) async throws(SolanaRPCError) -> [SolanaAccountInfo?] {
        try await route { n throws(SolanaRPCError) in try await n.accountInfos(addresses, commitment: commitment) }
    }
    public func simulateTransaction(
        _ transaction: String, sigVerify: Bool, commitment: SolanaCommitment
    ) async throws(SolanaRPCError)
        -> SolanaSimulation
    {
        try await route { n throws(SolanaRPCError) in try await n.simulateTransaction(transaction, sigVerify: sigVerify, commitment: commitment) }
    }
    public func sendTransaction(
        _ transaction: String, skipPreflight: Bool, preflightCommitment: SolanaCommitment
    ) async throws(SolanaRPCError)
        -> String
    {
        try await route { n throws(SolanaRPCError) in
            try await n.sendTransaction(transaction, skipPreflight: skipPreflight, preflightCommitment: preflightCommitment)
        }
    }
    public func signatureStatuses(_ signatures: [String]) async throws(SolanaRPCError) -> [SolanaSignatureStatus?] {
        try await route { n throws(SolanaRPCError) in try await n.signatureStatuses(signatures) }
    }
    public func minimumBalanceForRentExemption(dataLength: Int) async throws(SolanaRPCError) -> UInt64 {
        try await route { n throws(SolanaRPCError) in try await n.minimumBalanceForRentExemption(dataLength: dataLength) }
    }
    public func blockHeight(commitment: SolanaCommitment) async throws(SolanaRPCError) -> UInt64 {
        try await route { n throws(SolanaRPCError) in try await n.blockHeight(commitment: commitment) }
    }
    public func genesisHash() async throws(SolanaRPCError) -> String {
        try await route { n throws(SolanaRPCError) in try await n.genesisHash() }
    }
}
