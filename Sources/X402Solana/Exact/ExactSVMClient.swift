import Foundation
public import X402

/// Signs Solana messages for a buyer: its public key is the transfer authority.
public protocol SolanaSigner: Sendable {
    /// The signer's address.
    var publicKey: SolanaPublicKey { get }
    /// Signs serialized message bytes.
    func sign(message: [UInt8]) async throws -> SolanaSignature
}

extension SolanaKeypair: SolanaSigner {
    public func sign(message: [UInt8]) async throws -> SolanaSignature { sign(message) }
}

/// The buyer's side of `exact` on Solana: builds the reference transaction
/// `[SetComputeUnitLimit, SetComputeUnitPrice, TransferChecked, Memo]` as a v0 message paid by
/// the facilitator's `extra.feePayer`, signs its own slot only, and returns
/// `{"transaction": base64}`.
///
/// The mint's owner (SPL Token or Token-2022) and decimals are read from the node; the blockhash
/// is `extra.recentBlockhash` when the server gave one, otherwise the node's latest.
///
/// ```swift
/// let client = ExactSVMClient(signer: try SolanaKeypair(text: secret), rpc: node)
/// ```
public struct ExactSVMClient: SchemeClient {
    public var scheme: String { "exact" }

    /// The highest compute-unit limit this client sends.
    public static let maximumComputeUnitLimit: UInt32 = 400_000
    /// The highest compute-unit price this client sends (the reference facilitator's cap).
    public static let maximumComputeUnitPrice: UInt64 = 5_000_000

    /// Signs the transfer; its address is the payer.
    public let signer: any SolanaSigner
    let rpcFor: @Sendable (Network) -> (any SolanaRPC)?
    /// Compute-unit limit (20 000 by default, as the reference clients).
    public let computeUnitLimit: UInt32
    /// Compute-unit price in micro-lamports (1 by default).
    public let computeUnitPrice: UInt64
    /// Commitment of the node reads.
    public var commitment: SolanaCommitment = .confirmed

    /// A client using one node for every Solana network.
    public init(signer: any SolanaSigner, rpc: any SolanaRPC, computeUnitLimit: UInt32 = 20_000, computeUnitPrice: UInt64 = 1) {
        self.init(signer: signer, rpcs: { _ in rpc }, computeUnitLimit: computeUnitLimit, computeUnitPrice: computeUnitPrice)
    }

    /// A client with a node per network (`nil`: the network is not served).
    ///
    /// `computeUnitLimit` is clamped to 1…``maximumComputeUnitLimit`` and `computeUnitPrice` to
    /// at most ``maximumComputeUnitPrice`` (a facilitator refuses more).
    public init(
        signer: any SolanaSigner, rpcs: @escaping @Sendable (Network) -> (any SolanaRPC)?, computeUnitLimit: UInt32 = 20_000,
        computeUnitPrice: UInt64 = 1
    ) {
        self.signer = signer
        self.rpcFor = rpcs
        self.computeUnitLimit = Swift.min(Swift.max(computeUnitLimit, 1), Self.maximumComputeUnitLimit)
        self.computeUnitPrice = Swift.min(computeUnitPrice, Self.maximumComputeUnitPrice)
    }

    public func createPayload(for requirements: PaymentRequirements, context: PaymentContext) async throws -> SchemePayload {
        let transaction = try await transaction(for: requirements)
        return SchemePayload(payload: ["transaction": .string(transaction.base64)])
    }

    /// Builds and partially signs the payment transaction for `requirements` (v2 form).
    public func transaction(for requirements: PaymentRequirements) async throws(ExactSVMClientError) -> SolanaTransaction {
        guard requirements.network.isSolana else { throw .unsupportedNetwork(requirements.network.identifier) }
        guard let rpc = rpcFor(requirements.network) else { throw .unsupportedNetwork(requirements.network.identifier) }
        guard let feePayerText = requirements.extra?["feePayer"]?.stringValue else { throw .missingFeePayer }
        guard let feePayer = try? SolanaPublicKey(base58: feePayerText) else { throw .invalidAddress("feePayer", feePayerText) }
        guard let mint = try? SolanaPublicKey(base58: requirements.asset) else { throw .invalidAddress("asset", requirements.asset) }
        guard let payTo = try? SolanaPublicKey(base58: requirements.payTo) else { throw .invalidAddress("payTo", requirements.payTo) }
        guard let amount = UInt64(requirements.amount), requirements.amount.allSatisfy(\.isASCII) else {
            throw .invalidAmount(requirements.amount)
        }
        let memo = try Self.memo(requirements.extra?["memo"])
        let payer = signer.publicKey
        guard feePayer != payer else { throw .feePayerIsPayer }

        // 1. Token program and decimals from the mint account.
        let info: SolanaAccountInfo?
        do { info = try await rpc.accountInfo(mint.base58, commitment: commitment) } catch { throw .rpc(error) }
        guard let info else { throw .mintNotFound(mint.base58) }
        guard let tokenProgram = try? SolanaPublicKey(base58: info.owner), tokenProgram.isTokenProgram else {
            throw .notATokenMint(mint.base58, owner: info.owner)
        }
        guard info.data.count >= 45 else { throw .notATokenMint(mint.base58, owner: info.owner) }
        let decimals = info.data[44]

        // 2. Blockhash: the server's when given, else the node's.
        let blockhash: SolanaHash
        if let text = requirements.extra?["recentBlockhash"]?.stringValue, let given = try? SolanaHash(base58: text) {
            blockhash = given
        } else {
            do { blockhash = try SolanaHash(base58: try await rpc.latestBlockhash(commitment: commitment).blockhash) } catch let error
                as SolanaRPCError
            {
                throw .rpc(error)
            } catch {
                throw .rpc(SolanaRPCError(.invalidResponse, "blockhash is not base58"))
            }
        }

        // 3. The instructions, compiled into a v0 message paid by the facilitator.
        let source = ProgramDerivedAddress.associatedTokenAddress(owner: payer, mint: mint, tokenProgram: tokenProgram).address
        let destination = ProgramDerivedAddress.associatedTokenAddress(owner: payTo, mint: mint, tokenProgram: tokenProgram).address
        let instructions = [
            ComputeBudgetInstruction.setComputeUnitLimit(computeUnitLimit),
            ComputeBudgetInstruction.setComputeUnitPrice(computeUnitPrice),
            TokenInstruction.transferChecked(
                source: source, mint: mint, destination: destination, authority: payer, amount: amount, decimals: decimals,
                tokenProgram: tokenProgram),
            MemoInstruction.memo(memo),
        ]
        var transaction = SolanaTransaction(
            message: SolanaMessage.compile(payer: feePayer, instructions: instructions, recentBlockhash: blockhash, version: .v0))
        guard let slot = transaction.signerIndex(of: payer) else { throw .signingFailed("payer is not a signer") }
        do {
            transaction.signatures[slot] = try await signer.sign(message: transaction.messageBytes)
        } catch {
            throw .signingFailed(String(describing: type(of: error)))
        }
        guard transaction.serialize().count <= SolanaTransaction.maximumSize else { throw .transactionTooLarge }
        return transaction
    }

    /// The memo bytes: `extra.memo` (≤ 256 UTF-8 bytes), else 16 random bytes as 32 hex characters.
    static func memo(_ value: JSONValue?) throws(ExactSVMClientError) -> [UInt8] {
        if let value {
            guard let text = value.stringValue else { throw .invalidMemo }
            let bytes = Array(text.utf8)
            guard bytes.count <= 256 else { throw .memoTooLong(bytes.count) }
            return bytes
        }
        var rng = SystemRandomNumberGenerator()
        let hex = (0..<16).map { _ in
            let b = UInt8.random(in: 0...255, using: &rng)
            return String(b, radix: 16).count == 1 ? "0" + String(b, radix: 16) : String(b, radix: 16)
        }.joined()
        return Array(hex.utf8)
    }
}

/// Why the `exact` Solana client could not create a payment.
public enum ExactSVMClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not a `solana:*` network, or no node is configured for it.
    case unsupportedNetwork(String)
    /// `extra.feePayer` is missing.
    case missingFeePayer
    /// The fee payer is the buyer itself.
    case feePayerIsPayer
    /// A field that must be a base58 address is not one (field, value).
    case invalidAddress(String, String)
    /// The amount is not a decimal u64.
    case invalidAmount(String)
    /// `extra.memo` is not a string.
    case invalidMemo
    /// `extra.memo` is longer than 256 bytes.
    case memoTooLong(Int)
    /// The mint account does not exist.
    case mintNotFound(String)
    /// The asset is not owned by SPL Token or Token-2022 (or is too short for a mint).
    case notATokenMint(String, owner: String)
    /// A node call failed.
    case rpc(SolanaRPCError)
    /// The signer failed; carries the error's type name only.
    case signingFailed(String)
    /// The transaction exceeds 1232 bytes (a very long memo with a large account set).
    case transactionTooLarge

    public var description: String {
        switch self {
        case .unsupportedNetwork(let n): "network \(n) is not a Solana network this client has a node for"
        case .missingFeePayer: "requirements.extra.feePayer is missing"
        case .feePayerIsPayer: "the fee payer is the paying wallet itself"
        case .invalidAddress(let field, let value): "\(field) \(value) is not a Solana address"
        case .invalidAmount(let a): "amount \(a) is not a decimal unsigned 64-bit integer"
        case .invalidMemo: "extra.memo is not a string"
        case .memoTooLong(let n): "extra.memo has \(n) bytes, at most 256 are allowed"
        case .mintNotFound(let m): "mint \(m) does not exist"
        case .notATokenMint(let m, let owner): "asset \(m) is not an SPL Token or Token-2022 mint (owner \(owner))"
        case .rpc(let e): e.description
        case .signingFailed(let t): "the signer failed (\(t))"
        case .transactionTooLarge: "the payment transaction exceeds 1232 bytes"
        }
    }
}
