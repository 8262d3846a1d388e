public import Foundation
import Logging
import ServiceLifecycle
import X402
import X402EVM

/// Finishes what a previous run left open, by looking receipts up and broadcasting the recorded
/// signed bytes again, never by signing anything new.
///
/// * `submitted` entries (a transaction was recorded before its broadcast): the receipt is
///   fetched; a mined success is recorded `confirmed`, a mined failure `failed`, and the scheme's
///   record is updated so the owner's repeated `/settle` returns the same answer. Without a
///   receipt, the recorded signed transaction is broadcast again (a crash may have come before
///   the broadcast); if the node says its nonce went to another transaction and it still has no
///   receipt, it can never mine: the scheme record is dropped and the entry closed as failed
///   without a transaction, so a retry may settle the (still unused) authorization. Unmined
///   transactions are looked up again every `interval`.
/// * `received` entries (stopped before any broadcast was recorded): marked `failed` with
///   `unexpected_settle_error`; a repeated `/settle` tries again, and the scheme's on-chain
///   `authorizationState` check keeps a transfer from happening twice.
public struct SettlementResumer: Sendable {
    let journal: SettlementJournal
    let records: any SettlementRecordStore
    let chains: [UInt64: EVMFacilitatorChain]
    let logger: Logger
    /// Told after each pass how many settlements are pending and the age in seconds of the oldest.
    let onPass: @Sendable (_ pending: Int, _ oldestAgeSeconds: Double) -> Void

    init(
        journal: SettlementJournal, records: any SettlementRecordStore, chains: [EVMFacilitatorChain], logger: Logger,
        onPass: @escaping @Sendable (_ pending: Int, _ oldestAgeSeconds: Double) -> Void = { _, _ in }
    ) {
        self.journal = journal
        self.records = records
        self.onPass = onPass
        var table: [UInt64: EVMFacilitatorChain] = [:]
        for chain in chains { table[chain.chainID] = chain }
        self.chains = table
        self.logger = logger
    }

    /// One pass over the open entries; returns how many remain unresolved.
    ///
    /// `received` entries are closed only when `closeReceived` is set (the start-up pass: a later
    /// pass could meet a request still waiting for its lock).
    @discardableResult
    public func resumeOpenSettlements(startedBefore cutoff: Date, closeReceived: Bool = true) async -> Int {
        let open: [SettlementJournalEntry]
        do {
            open = try await journal.store.entries(in: [.received, .submitted])
        } catch {
            logger.error("cannot read open settlements", metadata: ["error": "\(error)"])
            return 1
        }
        var remaining = 0
        let now = Date()
        let submitted = open.filter { $0.status == .submitted }
        onPass(submitted.count, submitted.map { now.timeIntervalSince($0.createdAt) }.max() ?? 0)
        for var entry in open where entry.updatedAt <= cutoff {
            switch entry.status {
            case .received:
                guard closeReceived else { continue }
                entry.status = .failed
                entry.response = .failure(
                    .unexpectedSettleError, message: "the facilitator stopped before this settlement was submitted; settle again",
                    network: entry.network, payer: entry.payer)
                entry.updatedAt = Date()
                try? await journal.store.save(entry)
                logger.notice("interrupted settlement closed, nothing was sent", metadata: ["settlement": "\(entry.id)"])
            case .submitted:
                if await !resolve(&entry) { remaining += 1 }
            case .confirmed, .failed:
                break
            }
        }
        return remaining
    }

    /// Looks the entry's transaction up; `true` once it is settled either way.
    private func resolve(_ entry: inout SettlementJournalEntry) async -> Bool {
        guard let keyText = entry.schemeKey, let key = SettlementKey(text: keyText), let chain = chains[key.chainID],
            let text = entry.transaction, let hash = try? Bytes32(hex: text)
        else {
            logger.warning("cannot resume a settlement on an unconfigured chain", metadata: ["settlement": "\(entry.id)"])
            return false
        }
        var receipt: TransactionReceipt?
        do {
            receipt = try await chain.client.transactionReceipt(hash)
        } catch {
            logger.warning("receipt lookup failed", metadata: ["settlement": "\(entry.id)", "error": "\(error)"])
            return false
        }
        if receipt == nil {
            // Not mined: the crash may have come before the broadcast. Send the recorded bytes again.
            guard let record = try? await records.record(for: key), record.transaction == hash, let raw = record.rawTransaction else {
                return false
            }
            switch await chain.signers.rebroadcast(raw) {
            case .known, .nonceOccupied, .failed:
                return false
            case .nonceConsumed:
                receipt = try? await chain.client.transactionReceipt(hash)
                if receipt == nil {
                    await closeDropped(&entry, key: key, chain: chain, transaction: text)
                    return true
                }
            }
        }
        guard let receipt else { return false }
        let transferred = Self.moved(receipt, key)
        if !transferred, let earlier = await earlierSuccess(key, on: chain, besides: hash) {
            // This one failed because an earlier transaction of ours (a fee bump's original, a
            // transaction sent before a nonce was lost) had already moved the money.
            await confirm(&entry, key: key, transaction: earlier)
            return true
        }
        if !transferred, receipt.to != key.token {
            // A batch mined without this transfer (out of gas, say): if the authorization is still
            // unused nothing moved and that transaction never will; forget it so a retry settles,
            // as a live request is told. Unknown state: looked at again on the next pass.
            switch await authorizationUsed(key, on: chain) {
            case false?:
                try? await records.remove(key)
                entry.status = .failed
                entry.response = .failure(
                    .exactEVMTransactionFailed,
                    message: "batch transaction \(text) was mined without this transfer; nothing was transferred, settle again",
                    network: entry.network, payer: key.payer.checksummed)
                entry.transaction = nil
                entry.updatedAt = Date()
                try? await journal.store.save(entry)
                logger.notice(
                    "batch mined without this settlement; record dropped", metadata: ["settlement": "\(entry.id)", "transaction": "\(text)"])
                return true
            case nil:
                return false
            case true?:
                break
            }
        }
        if transferred {
            await confirm(&entry, key: key, transaction: hash)
            return true
        }
        let message = "transaction \(text) was mined but did not transfer"
        entry.status = .failed
        entry.response = .failure(
            .exactEVMTransactionFailed, message: message, network: entry.network, payer: key.payer.checksummed, transaction: text)
        await close(&entry, key: key, transaction: hash, status: .failed(reason: .exactEVMTransactionFailed, message: message))
        return true
    }

    /// Whether a mined transaction moved this payment's money: a transaction to the token itself
    /// if it emitted a `Transfer` from the payer; a batched one (Multicall3) only if the token
    /// marked this very authorization used.
    static func moved(_ receipt: TransactionReceipt, _ key: SettlementKey) -> Bool {
        receipt.succeeded
            && (receipt.to == key.token
                ? receipt.logs.contains { log in
                    log.address == key.token && log.topics.count == 3 && log.topics[0] == EIP3009Calls.transferTopic
                        && log.topics[1] == key.payer.word
                }
                : EIP3009Calls.containsAuthorizationUsed(receipt.logs, token: key.token, authorizer: key.payer, nonce: key.nonce))
    }

    /// An earlier transaction of the payment's record, other than `hash`, that was mined and moved
    /// the money, if any.
    func earlierSuccess(_ key: SettlementKey, on chain: EVMFacilitatorChain, besides hash: Bytes32) async -> Bytes32? {
        guard let record = try? await records.record(for: key) else { return nil }
        for earlier in record.earlierTransactions.reversed() where earlier != hash {
            if let receipt = try? await chain.client.transactionReceipt(earlier), Self.moved(receipt, key) { return earlier }
        }
        return nil
    }

    /// Records the settlement as paid by `transaction`.
    func confirm(_ entry: inout SettlementJournalEntry, key: SettlementKey, transaction: Bytes32) async {
        entry.status = .confirmed
        entry.transaction = transaction.hexString
        entry.response = SettleResponse(
            success: true, transaction: transaction.hexString, network: entry.network, payer: key.payer.checksummed)
        await close(&entry, key: key, transaction: transaction, status: .succeeded)
    }

    /// Saves the scheme record with its final status and the journal entry as set by the caller.
    private func close(_ entry: inout SettlementJournalEntry, key: SettlementKey, transaction: Bytes32, status: SettlementRecord.Status) async {
        entry.updatedAt = Date()
        var record =
            (try? await records.record(for: key)) ?? SettlementRecord(key: key, transaction: transaction, status: status, updatedAt: 0)
        record.transaction = transaction
        record.status = status
        record.rawTransaction = nil
        record.updatedAt = UInt64(Date().timeIntervalSince1970)
        try? await records.save(record)
        try? await journal.store.save(entry)
        logger.info(
            "resumed settlement", metadata: ["settlement": "\(entry.id)", "status": "\(entry.status)", "transaction": "\(transaction.hexString)"])
    }
}

/// Runs ``SettlementResumer`` at start-up over everything a previous run left open, then every
/// `interval` over `submitted` settlements older than `grace` (a live request normally finishes
/// them itself), until shutdown.
struct SettlementResumeService: Service {
    let resumer: SettlementResumer
    let interval: Duration
    var grace: Duration = .seconds(60)

    func run() async throws {
        let startedAt = Date()
        await resumer.resumeOpenSettlements(startedBefore: startedAt, closeReceived: true)
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            let cutoff = max(startedAt, Date().addingTimeInterval(-grace.timeInterval))
            await resumer.resumeOpenSettlements(startedBefore: cutoff, closeReceived: false)
        }
    }
}

extension Duration {
    fileprivate var timeInterval: TimeInterval {
        let (s, atto) = components
        return TimeInterval(s) + TimeInterval(atto) / 1e18
    }
}

extension SettlementResumer {
    /// Whether the token marks the authorization used (`nil` when it cannot be read, or the answer
    /// is not exactly one ABI `bool` word).
    fileprivate func authorizationUsed(_ key: SettlementKey, on chain: EVMFacilitatorChain) async -> Bool? {
        let call = CallRequest(to: key.token, data: EIP3009Calls.authorizationState(key.payer, key.nonce))
        guard let answer = try? await chain.client.call(call, at: .latest), answer.count == 32 else { return nil }
        return (try? ABI.decode([.bool], from: answer))?.first?.boolValue
    }

    /// The recorded transaction can never mine (its nonce went to another transaction, no
    /// receipt). If the authorization is unused the settlement is forgotten so it can be tried
    /// again; if it was used by an earlier transaction of ours the settlement is confirmed with
    /// it; if it is used by someone else, the entry is closed with `nonce_already_used`.
    fileprivate func closeDropped(_ entry: inout SettlementJournalEntry, key: SettlementKey, chain: EVMFacilitatorChain, transaction: String) async {
        let used = await authorizationUsed(key, on: chain) ?? false
        if used, let hash = try? Bytes32(hex: transaction), let earlier = await earlierSuccess(key, on: chain, besides: hash) {
            // Used by an earlier transaction of ours (the original of a fee bump, say): paid.
            await confirm(&entry, key: key, transaction: earlier)
            return
        }
        if used {
            let message = "the authorization was used on-chain by another transaction; \(transaction) was dropped"
            try? await records.save(
                SettlementRecord(
                    key: key, transaction: (try? Bytes32(hex: transaction)) ?? .zero,
                    status: .failed(reason: .exactEVMNonceAlreadyUsed, message: message), updatedAt: UInt64(Date().timeIntervalSince1970)))
            entry.response = .failure(.exactEVMNonceAlreadyUsed, message: message, network: entry.network, payer: key.payer.checksummed)
        } else {
            try? await records.remove(key)
            entry.response = .failure(
                .unexpectedSettleError, message: "transaction \(transaction) was dropped before it mined; nothing was transferred, settle again",
                network: entry.network, payer: key.payer.checksummed)
            entry.transaction = nil
        }
        entry.status = .failed
        entry.updatedAt = Date()
        try? await journal.store.save(entry)
        logger.notice("dropped settlement transaction", metadata: ["settlement": "\(entry.id)", "transaction": "\(transaction)", "used": "\(used)"])
    }
}
