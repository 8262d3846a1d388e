import Foundation
import Logging
import ServiceLifecycle
import X402
import X402EVM

/// Finishes what a previous run left open, by looking receipts up, never by sending again.
///
/// * `submitted` entries (a transaction was broadcast): the receipt is fetched; a mined success is
///   recorded `confirmed`, a mined failure `failed`, and the scheme's record is updated so a
///   repeated `/settle` returns the same answer. Unmined transactions are looked up again every
///   `interval` until they resolve or the service stops; a `/settle` repeat meanwhile waits for the
///   receipt through the scheme.
/// * `received` entries (stopped before any broadcast was recorded): marked `failed` with
///   `unexpected_settle_error`; a repeated `/settle` tries again, and the scheme's on-chain
///   `authorizationState` check keeps a transfer from happening twice.
public struct SettlementResumer: Sendable {
    let journal: SettlementJournal
    let records: any SettlementRecordStore
    let chains: [UInt64: EVMFacilitatorChain]
    let logger: Logger

    init(journal: SettlementJournal, records: any SettlementRecordStore, chains: [EVMFacilitatorChain], logger: Logger) {
        self.journal = journal
        self.records = records
        var table: [UInt64: EVMFacilitatorChain] = [:]
        for chain in chains { table[chain.chainID] = chain }
        self.chains = table
        self.logger = logger
    }

    /// One pass over the open entries; returns how many remain unresolved.
    @discardableResult
    public func resumeOpenSettlements(startedBefore cutoff: Date) async -> Int {
        let open: [SettlementJournalEntry]
        do {
            open = try await journal.store.entries(in: [.received, .submitted])
        } catch {
            logger.error("cannot read open settlements", metadata: ["error": "\(error)"])
            return 1
        }
        var remaining = 0
        for var entry in open where entry.updatedAt <= cutoff {
            switch entry.status {
            case .received:
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
        let receipt: TransactionReceipt?
        do {
            receipt = try await chain.client.transactionReceipt(hash)
        } catch {
            logger.warning("receipt lookup failed", metadata: ["settlement": "\(entry.id)", "error": "\(error)"])
            return false
        }
        guard let receipt else { return false }
        let transferred = receipt.succeeded
            && receipt.logs.contains { log in
                log.address == key.token && log.topics.count == 3 && log.topics[0] == EIP3009Calls.transferTopic
                    && log.topics[1] == key.payer.word
            }
        let status: SettlementRecord.Status
        if transferred {
            status = .succeeded
            entry.status = .confirmed
            entry.response = SettleResponse(success: true, transaction: text, network: entry.network, payer: key.payer.checksummed)
        } else {
            let message = "transaction \(text) was mined but did not transfer"
            status = .failed(reason: .exactEVMTransactionFailed, message: message)
            entry.status = .failed
            entry.response = .failure(.exactEVMTransactionFailed, message: message, network: entry.network, payer: key.payer.checksummed, transaction: text)
        }
        entry.updatedAt = Date()
        try? await records.save(SettlementRecord(key: key, transaction: hash, status: status, updatedAt: UInt64(Date().timeIntervalSince1970)))
        try? await journal.store.save(entry)
        logger.info("resumed settlement", metadata: ["settlement": "\(entry.id)", "status": "\(entry.status)", "transaction": "\(text)"])
        return true
    }
}

/// Runs ``SettlementResumer`` at start-up and then every `interval` while settlements stay open.
struct SettlementResumeService: Service {
    let resumer: SettlementResumer
    let interval: Duration

    func run() async throws {
        let startedAt = Date()
        while true {
            let remaining = await resumer.resumeOpenSettlements(startedBefore: startedAt)
            if remaining == 0 { break }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
        // A service that returns early would stop the group: wait for shutdown.
        try? await gracefulShutdown()
    }
}

/// Where settlements are recorded, opened from the configuration's `database` value.
struct FacilitatorStorage: Sendable {
    let journal: SettlementJournal
    /// The EVM scheme's records (mirrored into the journal).
    let evmRecords: any SettlementRecordStore

    static func open(_ database: String?, logger: Logger) async throws -> FacilitatorStorage {
        let location = database ?? "memory"
        if location == "memory" || location == ":memory:" {
            let journal = SettlementJournal(store: InMemorySettlementJournalStore())
            return FacilitatorStorage(
                journal: journal, evmRecords: JournaledSettlementRecords(base: InMemorySettlementRecordStore(), journal: journal))
        }
        return try await openSQLite(location, logger: logger)
    }
}
