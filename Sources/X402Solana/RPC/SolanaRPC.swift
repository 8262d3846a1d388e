public import X402

/// How settled a state must be before a node answers with it.
public enum SolanaCommitment: String, Sendable, Hashable, CaseIterable {
    case processed
    case confirmed
    case finalized
}

/// A recent blockhash and the last block height at which a transaction using it is still valid.
public struct SolanaBlockhash: Sendable, Hashable {
    /// The blockhash, base58.
    public var blockhash: String
    /// The last block height at which a transaction using ``blockhash`` can land.
    public var lastValidBlockHeight: UInt64

    public init(blockhash: String, lastValidBlockHeight: UInt64) {
        self.blockhash = blockhash
        self.lastValidBlockHeight = lastValidBlockHeight
    }
}

/// An account as `getAccountInfo` returns it (base64 data, decoded).
public struct SolanaAccountInfo: Sendable, Hashable {
    /// The program that owns the account, base58.
    public var owner: String
    public var lamports: UInt64
    /// The account data.
    public var data: [UInt8]
    public var executable: Bool

    public init(owner: String, lamports: UInt64, data: [UInt8], executable: Bool) {
        self.owner = owner
        self.lamports = lamports
        self.data = data
        self.executable = executable
    }
}

/// The outcome of `simulateTransaction`.
public struct SolanaSimulation: Sendable, Hashable {
    /// The transaction error (`value.err`), `nil` when the simulation succeeded.
    public var error: JSONValue?
    /// Program logs (bounded by the client).
    public var logs: [String]
    public var unitsConsumed: UInt64?

    public init(error: JSONValue?, logs: [String] = [], unitsConsumed: UInt64? = nil) {
        self.error = error
        self.logs = logs
        self.unitsConsumed = unitsConsumed
    }
}

/// One entry of `getSignatureStatuses`.
public struct SolanaSignatureStatus: Sendable, Hashable {
    public var slot: UInt64
    /// `nil` once the transaction is rooted (finalized).
    public var confirmations: UInt64?
    /// The transaction error, `nil` when it succeeded.
    public var error: JSONValue?
    public var confirmationStatus: SolanaCommitment?

    public init(slot: UInt64, confirmations: UInt64?, error: JSONValue?, confirmationStatus: SolanaCommitment?) {
        self.slot = slot
        self.confirmations = confirmations
        self.error = error
        self.confirmationStatus = confirmationStatus
    }
}

/// A failed Solana JSON-RPC call. Messages never contain the node URL or credentials.
public struct SolanaRPCError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure.
    public enum Code: Sendable, Hashable {
        /// The node could not be reached or did not answer in time (after retries).
        case transport
        /// The node answered with a JSON-RPC error (`code` as the node sent it).
        case node(code: Int)
        /// The answer was not what the method returns (malformed, oversized, wrong shape).
        case invalidResponse
    }

    public var code: Code
    public var message: String
    /// The node's `error.data`, when it sent one (e.g. the simulation error of a failed `sendTransaction`).
    public var data: JSONValue?

    public init(_ code: Code, _ message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public var description: String {
        switch code {
        case .transport: "Solana RPC transport error: \(message)"
        case .node(let code): "Solana RPC error \(code): \(message)"
        case .invalidResponse: "invalid Solana RPC response: \(message)"
        }
    }
}

/// The Solana node calls the exact scheme needs. `X402SolanaRPC` implements it over HTTP JSON-RPC;
/// tests can inject faults with their own conformance.
///
/// Addresses, blockhashes and signatures are base58 strings as the node sends them; transactions are
/// the base64 wire bytes.
public protocol SolanaRPC: Sendable {
    /// `getLatestBlockhash`.
    func latestBlockhash(commitment: SolanaCommitment) async throws(SolanaRPCError) -> SolanaBlockhash

    /// `getAccountInfo` with base64 encoding; `nil` when the account does not exist.
    func accountInfo(_ address: String, commitment: SolanaCommitment) async throws(SolanaRPCError) -> SolanaAccountInfo?

    /// `getMultipleAccounts` (one request), in the order of `addresses`.
    func accountInfos(
        _ addresses: [String], commitment: SolanaCommitment
    ) async throws(SolanaRPCError)
        -> [SolanaAccountInfo?]

    /// `simulateTransaction` of a base64 wire transaction (`replaceRecentBlockhash: false`).
    func simulateTransaction(
        _ transaction: String, sigVerify: Bool, commitment: SolanaCommitment
    )
        async throws(SolanaRPCError) -> SolanaSimulation

    /// `sendTransaction` of a base64 wire transaction; returns the transaction signature (base58).
    func sendTransaction(
        _ transaction: String, skipPreflight: Bool, preflightCommitment: SolanaCommitment
    )
        async throws(SolanaRPCError) -> String

    /// `getSignatureStatuses`, one entry per signature (`nil` when the node does not know it).
    func signatureStatuses(_ signatures: [String]) async throws(SolanaRPCError) -> [SolanaSignatureStatus?]

    /// `getMinimumBalanceForRentExemption`.
    func minimumBalanceForRentExemption(dataLength: Int) async throws(SolanaRPCError) -> UInt64

    /// `getBlockHeight`.
    func blockHeight(commitment: SolanaCommitment) async throws(SolanaRPCError) -> UInt64

    /// `getGenesisHash` (base58): names the cluster, the reference of a `solana:` CAIP-2 id.
    func genesisHash() async throws(SolanaRPCError) -> String
}

extension SolanaRPC {
    /// Unsupported unless a conformance reads it: a node that cannot say its cluster fails the
    /// admission check of a failover client that expects one.
    public func genesisHash() async throws(SolanaRPCError) -> String {
        throw SolanaRPCError(.node(code: -32601), "getGenesisHash is not available on this client")
    }
}
