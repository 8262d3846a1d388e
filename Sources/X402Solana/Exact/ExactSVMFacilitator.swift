public import Foundation
public import X402

/// The facilitator's side of `exact` on Solana: verifies a buyer's partially signed transaction
/// in the reference order with the reference reason strings, co-signs it as the fee payer and
/// submits it.
///
/// **Verify** is static first; no node is asked anything before every offline check passed:
/// scheme → network → `extra.feePayer` present and managed → transaction decodes (legacy or v0,
/// no lookup tables) → 3…``Options/maximumInstructions`` instructions → SetComputeUnitLimit
/// (≤ ``Options/maximumComputeUnitLimit``) → SetComputeUnitPrice
/// (≤ ``Options/maximumComputeUnitPrice``) → TransferChecked at index 2 (payer = its authority)
/// → authority not a fee payer → mint → destination ATA of `payTo` → exact amount → only
/// Lighthouse/Memo after it → `extra.memo` → the fee payer is account 0, in no instruction's
/// accounts and never a program → the buyer's signatures verify. Then, against the node: the mint
/// belongs to the instruction's token program and (Token-2022) carries no transfer-fee or
/// transfer-hook extension; the co-signed transaction simulates with `sigVerify`.
///
/// **Settle** checks the same, then settles each message once: the key is the SHA-256 of the
/// message bytes (not the signed bytes), guarded in process and, with a shared
/// `SchemeSettlementRowStore` and `SettlementExclusion`, across instances. A transaction that
/// already landed is never sent again; its success goes only to the request that owns the
/// settlement (the seller's `Idempotency-Key`), any other gets `duplicate_settlement`.
public struct ExactSVMFacilitator: SchemeFacilitator {
    /// Verification limits and settlement timing.
    public struct Options: Sendable, Hashable {
        /// Most instructions accepted (3…7; 7 as the newer SDKs, room for three Lighthouse
        /// assertions and a memo; the 2025 TS snapshot used 6).
        public var maximumInstructions = 7
        /// Highest compute-unit price accepted, in micro-lamports (reference: 5 000 000).
        public var maximumComputeUnitPrice: UInt64 = 5_000_000
        /// Highest compute-unit limit accepted (x402-rs: 400 000; clients send 20 000).
        public var maximumComputeUnitLimit: UInt32 = 400_000
        /// Refuse Token-2022 mints with a transfer-fee or transfer-hook extension (read from the
        /// mint account's TLV extensions: types 1 and 14).
        public var refuseTokenExtensions = true
        /// Simulate during `/verify` (reference: on).
        public var simulateInVerify = true
        /// Commitment of the node reads and the simulation.
        public var commitment: SolanaCommitment = .confirmed
        /// Time between two `getSignatureStatuses` polls.
        public var confirmationInterval: Duration = .seconds(1)
        /// Polls before answering `settlement_pending` (the transaction may still land).
        public var confirmationAttempts = 30
        /// How long a settled message is remembered in process (the blockhash lifetime bounds replays).
        public var duplicateWindow: Duration = .seconds(120)

        public init() {}
    }

    public var scheme: String { "exact" }
    public var family: NetworkPattern { .solana }

    public let options: Options
    let nodes: [Network: any SolanaRPC]
    /// The fee payers of each served network: a key configured for one network never pays on another.
    let feePayers: [Network: [SolanaKeypair]]
    /// Every fee payer of every network, none of which a payment may touch as an account.
    let feePayerKeys: Set<SolanaPublicKey>
    /// Settlement rows shared by instances (in memory unless a database store is given).
    public let records: any SchemeSettlementRowStore
    let exclusion: (any SettlementExclusion)?
    let state = FacilitatorState()
    let now: @Sendable () -> Date

    /// A facilitator paying fees from the same `feePayers` on every network of `nodes`.
    ///
    /// - Parameters:
    ///   - nodes: a node client per served network.
    ///   - feePayers: the fee-payer keys; `/supported` advertises them in turn.
    ///   - records: where settled messages are remembered.
    ///   - options: verification limits and settlement timing.
    ///   - exclusion: serializes the settlement of one message across instances (PostgreSQL).
    ///   - now: the clock of the in-process duplicate window.
    public init(
        nodes: [Network: any SolanaRPC], feePayers: [SolanaKeypair], options: Options = Options(),
        records: any SchemeSettlementRowStore = InMemorySchemeSettlementRows(), exclusion: (any SettlementExclusion)? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.init(
            nodes: nodes, feePayersByNetwork: nodes.mapValues { _ in feePayers }, options: options, records: records, exclusion: exclusion,
            now: now)
    }

    /// A facilitator paying fees on each network of `nodes` from that network's own keys.
    ///
    /// - Parameters:
    ///   - nodes: a node client per served network.
    ///   - feePayersByNetwork: the fee-payer keys of each network; `/supported` advertises a
    ///     network's keys in turn, and a payment naming a fee payer of another network is refused.
    ///   - records: where settled messages are remembered; give the facilitator's database store
    ///     so that a restart or a second instance never answers a settled message twice.
    ///   - options: verification limits and settlement timing.
    ///   - exclusion: serializes the settlement of one message across instances (PostgreSQL).
    ///   - now: the clock of the in-process duplicate window.
    public init(
        nodes: [Network: any SolanaRPC], feePayersByNetwork: [Network: [SolanaKeypair]], options: Options = Options(),
        records: any SchemeSettlementRowStore = InMemorySchemeSettlementRows(), exclusion: (any SettlementExclusion)? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.nodes = nodes
        self.feePayers = feePayersByNetwork
        self.feePayerKeys = Set(feePayersByNetwork.values.joined().map(\.publicKey))
        self.options = options
        self.records = records
        self.exclusion = exclusion
        self.now = now
    }

    /// The networks this facilitator serves.
    public var networks: [Network] { nodes.keys.sorted() }

    public func signers(for network: Network) -> [String] {
        nodes[network] == nil ? [] : (feePayers[network] ?? []).map(\.publicKey.base58)
    }

    /// `{"feePayer": …}`, one fee-payer key after the other on successive calls.
    public func supportedExtra(for network: Network) async -> JSONObject? {
        guard nodes[network] != nil, let keys = feePayers[network], !keys.isEmpty else { return nil }
        let index = state.nextRotation() % keys.count
        return ["feePayer": .string(keys[index].publicKey.base58)]
    }

    // MARK: Verify

    public func verify(_ payload: AnyPaymentPayload, requirements: AnyPaymentRequirements) async -> VerifyResponse {
        do {
            let payment = try check(payload, requirements)
            try await checkOnChain(payment)
            return .valid(payer: payment.payer)
        } catch {
            return .invalid(error.reason, message: error.message, payer: error.payer)
        }
    }

    /// The offline checks only, without any node call: the verdict ``verify(_:requirements:)`` gives
    /// before it reads the mint and simulates (decode, structure, amounts, fee-payer isolation and the
    /// buyer's Ed25519 signatures).
    public func verifyOffline(_ payload: AnyPaymentPayload, requirements: AnyPaymentRequirements) -> VerifyResponse {
        do {
            return .valid(payer: try check(payload, requirements).payer)
        } catch {
            return .invalid(error.reason, message: error.message, payer: error.payer)
        }
    }

    /// A verification failure: reason, detail and the payer known at that point ("" before it is).
    struct Failure: Error {
        let reason: ErrorReason
        let message: String?
        let payer: String

        init(_ reason: ErrorReason, _ message: String? = nil, payer: String = "") {
            self.reason = reason
            self.message = message
            self.payer = payer
        }
    }

    /// A payment that passed the static checks.
    struct CheckedPayment: Sendable {
        let network: Network
        let node: any SolanaRPC
        let requirements: PaymentRequirements
        let transaction: SolanaTransaction
        let feePayer: SolanaKeypair
        let authority: SolanaPublicKey
        let mint: SolanaPublicKey
        let tokenProgram: SolanaPublicKey

        var payer: String { authority.base58 }
        /// The settlement key: the message hash.
        var key: String { "solana:" + transaction.messageHash.map { String(format: "%02x", $0) }.joined() }
    }

    /// The offline checks, in the reference order (spec §5 steps 1–16, then the fee-payer
    /// isolation rules and the buyer's signatures).
    func check(_ payload: AnyPaymentPayload, _ anyRequirements: AnyPaymentRequirements) throws(Failure) -> CheckedPayment {
        guard payload.version == anyRequirements.version else {
            throw Failure(.invalidX402Version, "payload is x402 v\(payload.version.rawValue), requirements v\(anyRequirements.version.rawValue)")
        }
        // 1. Scheme.
        guard payload.scheme == scheme, anyRequirements.scheme == scheme else {
            throw Failure(.unsupportedScheme, "scheme must be exact (payload \(payload.scheme), requirements \(anyRequirements.scheme))")
        }
        // 2. Network.
        switch payload {
        case .v2(let p):
            guard case .v2(let r) = anyRequirements, p.accepted.network == r.network else {
                throw Failure(.networkMismatch, "payment is for \(payload.networkIdentifier), requirements for \(anyRequirements.networkIdentifier)")
            }
        case .v1(let p):
            guard p.network == anyRequirements.networkIdentifier else {
                throw Failure(.networkMismatch, "payment is for \(p.network), requirements for \(anyRequirements.networkIdentifier)")
            }
        }
        guard let requirements = anyRequirements.normalized, let node = nodes[requirements.network] else {
            throw Failure(.invalidNetwork, "network \(anyRequirements.networkIdentifier) is not served by this facilitator")
        }
        // 3–4. The fee payer: present and one of ours.
        guard let feePayerText = requirements.extra?["feePayer"]?.stringValue else {
            throw Failure(.exactSVMMissingFeePayer, "requirements.extra.feePayer is missing")
        }
        guard let feePayerKey = try? SolanaPublicKey(base58: feePayerText),
            let feePayer = feePayers[requirements.network]?.first(where: { $0.publicKey == feePayerKey })
        else {
            throw Failure(.exactSVMFeePayerNotManaged, "fee payer \(feePayerText) is not managed by this facilitator on \(requirements.network)")
        }
        // 5. Decode and decompile.
        guard let text = payload.payload["transaction"]?.stringValue else {
            throw Failure(.exactSVMTransactionCouldNotBeDecoded, "payload.transaction is missing")
        }
        let transaction: SolanaTransaction
        let instructions: [SolanaInstruction]
        do {
            transaction = try SolanaTransaction(base64: text)
            instructions = try transaction.message.decompile()
        } catch {
            if case .unsupportedVersion = error { throw Failure(.exactSVMUnsupportedTransactionVersion, error.description) }
            throw Failure(.exactSVMTransactionCouldNotBeDecoded, error.description)
        }
        // 6. Instruction count.
        let maximum = Swift.min(Swift.max(options.maximumInstructions, 3), 7)
        guard (3...maximum).contains(instructions.count) else {
            throw Failure(.exactSVMInstructionsLength, "\(instructions.count) instructions, expected 3 to \(maximum)")
        }
        // 7. SetComputeUnitLimit.
        guard instructions[0].programID == .computeBudgetProgram,
            let limit = ComputeBudgetInstruction.parseComputeUnitLimit(instructions[0].data)
        else {
            throw Failure(.exactSVMComputeLimitInstruction, "instruction 0 must be SetComputeUnitLimit")
        }
        guard limit <= options.maximumComputeUnitLimit else {
            throw Failure(.exactSVMComputeLimitTooHigh, "compute unit limit \(limit) exceeds \(options.maximumComputeUnitLimit)")
        }
        // 8. SetComputeUnitPrice.
        guard instructions[1].programID == .computeBudgetProgram,
            let price = ComputeBudgetInstruction.parseComputeUnitPrice(instructions[1].data)
        else {
            throw Failure(.exactSVMComputePriceInstruction, "instruction 1 must be SetComputeUnitPrice")
        }
        guard price <= options.maximumComputeUnitPrice else {
            throw Failure(.exactSVMComputePriceTooHigh, "compute unit price \(price) exceeds \(options.maximumComputeUnitPrice) micro-lamports")
        }
        // 9. Payer: the owner account of the first token-program instruction.
        let payerKey = instructions.first { $0.programID.isTokenProgram && $0.accounts.count >= 4 }?.accounts[3].publicKey
        let payer = payerKey?.base58 ?? ""
        // 10. TransferChecked at index 2.
        let transfer = instructions[2]
        guard transfer.programID.isTokenProgram, transfer.accounts.count == 4,
            let (amount, _) = TokenInstruction.parseTransferChecked(transfer.data), let authority = payerKey,
            transfer.accounts[3].publicKey == authority
        else {
            throw Failure(.exactSVMNoTransferInstruction, "instruction 2 must be an SPL Token or Token-2022 TransferChecked", payer: payer)
        }
        // 11. The fee payer never moves its own funds.
        guard !feePayerKeys.contains(authority) else {
            throw Failure(.exactSVMFeePayerTransferringFunds, "the transfer authority is a fee payer of this facilitator", payer: payer)
        }
        // 12. Mint.
        let mint = transfer.accounts[1].publicKey
        guard mint.base58 == requirements.asset else {
            throw Failure(.exactSVMMintMismatch, "transfer mint \(mint) differs from asset \(requirements.asset)", payer: payer)
        }
        // 13. Destination: the ATA of payTo under the instruction's token program.
        guard let payTo = try? SolanaPublicKey(base58: requirements.payTo),
            transfer.accounts[2].publicKey
                == state.associatedTokenAddress(owner: payTo, mint: mint, tokenProgram: transfer.programID)
        else {
            throw Failure(.exactSVMRecipientMismatch, "the destination is not the associated token account of \(requirements.payTo)", payer: payer)
        }
        // 14. Exact amount.
        guard let required = UInt64(requirements.amount), requirements.amount.allSatisfy(\.isASCII), amount == required else {
            throw Failure(.exactSVMAmountMismatch, "transfer amount \(amount) differs from the required \(requirements.amount)", payer: payer)
        }
        // 15. Only Lighthouse and Memo after the transfer.
        let positions: [ErrorReason] = [
            .exactSVMUnknownFourthInstruction, .exactSVMUnknownFifthInstruction, .exactSVMUnknownSixthInstruction,
            .exactSVMUnknownSeventhInstruction,
        ]
        for (i, instruction) in instructions.dropFirst(3).enumerated()
        where instruction.programID != .lighthouseProgram && instruction.programID != .memoProgram {
            throw Failure(positions[i], "instruction \(i + 3) invokes \(instruction.programID), not Lighthouse or Memo", payer: payer)
        }
        // 16. The seller's memo, exactly once.
        if let memo = requirements.extra?["memo"]?.stringValue {
            let memos = instructions.dropFirst(3).filter { $0.programID == .memoProgram }
            guard memos.count == 1, let only = memos.first else {
                throw Failure(.exactSVMMemoCount, "\(memos.count) memo instructions, expected exactly one", payer: payer)
            }
            guard String(validating: only.data, as: UTF8.self) == memo else {
                throw Failure(.exactSVMMemoMismatch, "the memo differs from extra.memo", payer: payer)
            }
        }
        // Fee-payer isolation: account 0, in no instruction's accounts, never a program.
        guard transaction.message.feePayer == feePayerKey else {
            throw Failure(.exactSVMFeePayerMismatch, "the transaction's fee payer is not extra.feePayer \(feePayerText)", payer: payer)
        }
        for instruction in instructions {
            guard !feePayerKeys.contains(instruction.programID), !instruction.accounts.contains(where: { feePayerKeys.contains($0.publicKey) })
            else {
                throw Failure(
                    .exactSVMFeePayerInInstructionAccounts, "a fee payer of this facilitator appears in an instruction", payer: payer)
            }
        }
        // The buyer's signatures (every slot but the fee payer's).
        let bad = transaction.invalidSignatureSlots(allowingEmpty: [0])
        guard bad.isEmpty else {
            throw Failure(.exactSVMSignatureInvalid, "signature slots \(bad) are missing or invalid", payer: payer)
        }
        return CheckedPayment(
            network: requirements.network, node: node, requirements: requirements, transaction: transaction, feePayer: feePayer,
            authority: authority, mint: mint, tokenProgram: transfer.programID)
    }

    /// The node checks: the mint (owner and Token-2022 extensions), then the co-signed
    /// transaction's simulation.
    func checkOnChain(_ payment: CheckedPayment) async throws(Failure) {
        if options.refuseTokenExtensions {
            let info: SolanaAccountInfo?
            do {
                info = try await payment.node.accountInfo(payment.mint.base58, commitment: options.commitment)
            } catch {
                throw Failure(.transactionSimulationFailed, "could not read the mint: \(error)", payer: payment.payer)
            }
            guard let info, info.owner == payment.tokenProgram.base58 else {
                throw Failure(.exactSVMMintMismatch, "the mint is not an account of \(payment.tokenProgram)", payer: payment.payer)
            }
            if let ext = Self.refusedExtension(info.data) {
                throw Failure(.exactSVMMintExtensionNotSupported, "the mint has the Token-2022 \(ext) extension", payer: payment.payer)
            }
        }
        if options.simulateInVerify { try await simulate(payment) }
    }

    func simulate(_ payment: CheckedPayment) async throws(Failure) {
        let signed = cosigned(payment)
        let result: SolanaSimulation
        do {
            result = try await payment.node.simulateTransaction(signed.base64, sigVerify: true, commitment: options.commitment)
        } catch {
            throw Failure(.transactionSimulationFailed, error.description, payer: payment.payer)
        }
        if let error = result.error {
            throw Failure(.transactionSimulationFailed, "simulation failed: \(error.serialized(limit: 512))", payer: payment.payer)
        }
    }

    /// The transaction with the fee payer's signature added.
    func cosigned(_ payment: CheckedPayment) -> SolanaTransaction {
        var transaction = payment.transaction
        transaction.signatures[0] = payment.feePayer.sign(transaction.messageBytes)
        return transaction
    }

    /// The name of a Token-2022 extension this facilitator refuses, if `data` (a mint account)
    /// carries one. Token-2022 mints with extensions are 165 bytes of base account, one account-type
    /// byte (1 = mint), then TLV entries (u16 type, u16 length, value).
    static func refusedExtension(_ data: [UInt8]) -> String? {
        guard data.count > 166, data[165] == 1 else { return nil }
        var offset = 166
        while offset + 4 <= data.count {
            let type = UInt16(data[offset]) | UInt16(data[offset + 1]) << 8
            let length = Int(UInt16(data[offset + 2]) | UInt16(data[offset + 3]) << 8)
            switch type {
            case 0: return nil  // uninitialized padding ends the list
            case 1: return "TransferFeeConfig"
            case 14: return "TransferHook"
            default: break
            }
            offset += 4 + length
        }
        return nil
    }
}

extension JSONValue {
    /// Compact JSON text, cut at `limit` characters.
    func serialized(limit: Int) -> String {
        let text = serializedString()
        return text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }
}

/// Mutable state shared by copies of one facilitator: the fee-payer rotation and the in-process
/// settlement guard.
final class FacilitatorState: @unchecked Sendable {
    private let lock = NSLock()
    private var rotation = 0
    /// Message key → (settled at, signature) or in flight.
    private var entries: [String: Entry] = [:]
    private var lastPrune = Date.distantPast
    /// Recipient token accounts already derived (a seller's payTo and mint repeat on every payment).
    private var tokenAccounts: [TokenAccountKey: SolanaPublicKey] = [:]
    /// Bound of ``tokenAccounts``; it is emptied when full (the derivation is only a cost, not state).
    static let tokenAccountCacheLimit = 4096

    struct TokenAccountKey: Hashable {
        let owner: SolanaPublicKey
        let mint: SolanaPublicKey
        let program: SolanaPublicKey
    }

    /// The associated token account of `owner` for `mint`, derived once and then remembered.
    func associatedTokenAddress(owner: SolanaPublicKey, mint: SolanaPublicKey, tokenProgram: SolanaPublicKey) -> SolanaPublicKey {
        let key = TokenAccountKey(owner: owner, mint: mint, program: tokenProgram)
        if let known = lock.withLock({ tokenAccounts[key] }) { return known }
        let address = ProgramDerivedAddress.associatedTokenAddress(owner: owner, mint: mint, tokenProgram: tokenProgram).address
        lock.withLock {
            if tokenAccounts.count >= Self.tokenAccountCacheLimit { tokenAccounts.removeAll(keepingCapacity: true) }
            tokenAccounts[key] = address
        }
        return address
    }

    enum Entry {
        case inFlight
        case settled(signature: String, owner: String?, at: Date)
    }

    func nextRotation() -> Int {
        lock.withLock {
            defer { rotation &+= 1 }
            return rotation & Int.max
        }
    }

    /// Claims `key` for a settlement run; returns the existing entry instead when there is one.
    func claim(_ key: String, now: Date, window: Duration) -> Entry? {
        lock.withLock {
            let seconds = Double(window.components.seconds)
            // Prune at most once a second, so a claim costs O(1) amortized however many settled.
            if now.timeIntervalSince(lastPrune) >= 1 || now < lastPrune {
                lastPrune = now
                entries = entries.filter { _, entry in
                    if case .settled(_, _, let at) = entry { return now.timeIntervalSince(at) < seconds }
                    return true
                }
            }
            if let existing = entries[key] {
                if case .settled(_, _, let at) = existing, now.timeIntervalSince(at) >= seconds {
                    entries[key] = .inFlight
                    return nil
                }
                return existing
            }
            entries[key] = .inFlight
            return nil
        }
    }

    func finish(_ key: String, signature: String?, owner: String?, now: Date) {
        lock.withLock {
            if let signature { entries[key] = .settled(signature: signature, owner: owner, at: now) } else { entries[key] = nil }
        }
    }
}

/// A `SchemeSettlementRowStore` in memory (nothing survives a restart or is shared).
public actor InMemorySchemeSettlementRows: SchemeSettlementRowStore {
    private var rows: [String: SchemeSettlementRow] = [:]

    public init() {}

    public func schemeRecord(key: String) -> SchemeSettlementRow? { rows[key] }
    public func saveSchemeRecord(_ row: SchemeSettlementRow) { rows[row.key] = row }
    public func removeSchemeRecord(key: String) { rows[key] = nil }
    public func schemeRecords(status: String, limit: Int) -> [SchemeSettlementRow] {
        Array(rows.values.filter { $0.status == status }.sorted { $0.updatedAt < $1.updatedAt }.prefix(max(0, limit)))
    }
}
