public import Foundation
public import Logging
public import X402
import X402EVM

/// Records every `/settle` (received → submitted → confirmed / failed) and answers the owner's
/// retry of a settled payment from the record instead of settling again.
///
/// An entry's id is a Keccak-256 hash of the request as decoded and re-encoded together with the
/// request's settlement id (`SettlementIdempotency`). Only a request carrying the same
/// settlement id finds the entry again; a request without one gets an entry of its own, so a
/// byte-identical replay never receives another request's answer. Whether a request owns the
/// settlement is decided one level down: the EVM scheme keys its records by authorization and
/// answers every request but the owner as a duplicate.
public struct SettlementJournal: Sendable {
    public let store: any SettlementJournalStore
    /// Serializes settlements of one payment across instances sharing the store (PostgreSQL).
    let exclusion: (any SettlementExclusion)?
    private let now: @Sendable () -> Date

    public init(store: any SettlementJournalStore, now: @escaping @Sendable () -> Date = { Date() }) {
        self.init(store: store, exclusion: nil, now: now)
    }

    init(store: any SettlementJournalStore, exclusion: (any SettlementExclusion)?, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.exclusion = exclusion
        self.now = now
    }

    /// The journal id of a request carrying `settlementID`; without one, a fresh id per request.
    public static func id(of request: FacilitatorRequest, settlementID: String?) -> String {
        var bytes = request.jsonBytes()
        bytes.append(0)
        bytes += Array((settlementID ?? "anonymous:" + UUID().uuidString).utf8)
        return Keccak256.hash(bytes).hexString
    }

    /// The id of the journal entry of the settlement running in this task, if any (read by the
    /// scheme's record store to mark the entry submitted).
    @TaskLocal static var currentEntryID: String?

    /// Settles through `engine`, recording the request and its outcome.
    public func settle(_ incoming: IncomingFacilitatorRequest, engine: FacilitatorEngine, logger: Logger) async -> SettleResponse {
        guard case .payment(let request) = incoming else { return await engine.settle(incoming) }
        guard let exclusion else { return await settle(request, engine: engine, logger: logger) }
        // Keyed by the payment (payer and nonce), not the request bytes: one settlement at a time
        // per payment across instances; the later one finds the recorded answer.
        do {
            return try await exclusion.exclusively(payment: PaymentIdentity(request.paymentPayload).key) {
                await settle(request, engine: engine, logger: logger)
            }
        } catch {
            logger.error("settlement lock unavailable", metadata: ["error": "\(error)"])
            return .failure(
                .unexpectedSettleError, message: "the settlement journal is unavailable; nothing was sent",
                network: request.paymentPayload.networkIdentifier)
        }
    }

    private func settle(_ request: FacilitatorRequest, engine: FacilitatorEngine, logger: Logger) async -> SettleResponse {
        let id = Self.id(of: request, settlementID: SettlementIdempotency.acceptableCurrent)
        let network = request.paymentPayload.networkIdentifier
        // A `payment-identifier` id names one payment: with another payment it is a conflict. A
        // repeat with the same payment is a retry: the owner's retry (same settlement id) finds its
        // journal entry below; any other request is answered by the scheme as a duplicate naming
        // the transaction, so there is never a second settlement and never a second owner.
        let paymentID = try? PaymentIdentifier.id(in: request.paymentPayload)
        if let paymentID {
            do {
                if let answer = try await answerForPaymentIdentifier(paymentID, of: request) { return answer }
            } catch {
                logger.error("settlement journal unavailable", metadata: ["error": "\(error)"])
                return .failure(.unexpectedSettleError, message: "the settlement journal is unavailable; nothing was sent", network: network)
            }
        }
        var entry: SettlementJournalEntry
        do {
            if let existing = try await store.entry(id: id) {
                if existing.isFinal, let response = existing.response {
                    logger.info("settle answered from the journal", metadata: ["settlement": "\(id)", "status": "\(existing.status)"])
                    return response
                }
                entry = existing
                if entry.status != .submitted { entry.status = .received }
                entry.updatedAt = now()
            } else {
                let date = now()
                entry = SettlementJournalEntry(
                    id: id, network: network, scheme: request.paymentRequirements.scheme, status: .received, createdAt: date, updatedAt: date)
            }
            try await store.save(entry)
        } catch {
            logger.error("settlement journal unavailable", metadata: ["error": "\(error)"])
            return .failure(.unexpectedSettleError, message: "the settlement journal is unavailable; nothing was sent", network: network)
        }

        let response = await Self.$currentEntryID.withValue(id) { await engine.settle(request) }

        do {
            if let latest = try await store.entry(id: id) { entry = latest }
            entry.payer = response.payer ?? entry.payer
            entry.response = response
            if response.success {
                entry.status = .confirmed
                entry.transaction = response.transaction
            } else if response.errorReason == .settlementPending {
                entry.status = .submitted
                if !response.transaction.isEmpty { entry.transaction = response.transaction }
            } else {
                // A failure is final only with a transaction (a mined failure, or a duplicate
                // naming the owner's transaction); without one a retry may settle.
                entry.status = .failed
                entry.transaction = response.transaction.isEmpty ? nil : response.transaction
                if response.transaction.isEmpty { entry.schemeKey = nil }
            }
            entry.updatedAt = now()
            try await store.save(entry)
        } catch {
            logger.error("could not record a settlement outcome", metadata: ["settlement": "\(id)", "error": "\(error)"])
        }
        return response
    }

    /// The journal id of the entry binding a `payment-identifier` id to its payment: `confirmed`
    /// without a response (so it is never resumed nor answered from), its
    /// ``SettlementJournalEntry/schemeKey`` the payment's ``PaymentIdentity``.
    static func bindingID(_ paymentID: String) -> String { "payment-identifier:" + PaymentIdentifier.storageKey(paymentID) }

    /// Binds `paymentID` to the request's payment; answers a conflict when it is bound to another
    /// payment, `nil` to settle.
    private func answerForPaymentIdentifier(_ paymentID: String, of request: FacilitatorRequest) async throws -> SettleResponse? {
        let key = Self.bindingID(paymentID)
        let identity = PaymentIdentity(request.paymentPayload).key
        guard let binding = try await store.entry(id: key) else {
            let date = now()
            try await store.save(
                SettlementJournalEntry(
                    id: key, network: request.paymentPayload.networkIdentifier, scheme: request.paymentRequirements.scheme, status: .confirmed,
                    schemeKey: identity, createdAt: date, updatedAt: date))
            return nil
        }
        guard binding.schemeKey == identity else {
            return .failure(
                .paymentIdentifierConflict, message: "this payment identifier was already used with another payment",
                network: request.paymentPayload.networkIdentifier)
        }
        return nil
    }

    /// Marks the entry of the running settlement submitted with `transaction`.
    func markSubmitted(transaction: String, schemeKey: String) async {
        guard let id = Self.currentEntryID, var entry = try? await store.entry(id: id) else { return }
        guard entry.status == .received || entry.status == .submitted else { return }
        entry.status = .submitted
        entry.transaction = transaction
        entry.schemeKey = schemeKey
        entry.updatedAt = now()
        try? await store.save(entry)
    }
}

/// The EVM scheme's settlement records, mirrored into the journal: the moment a transaction is
/// recorded as broadcast, the running request's journal entry becomes `submitted` with its hash.
struct JournaledSettlementRecords: SettlementRecordStore {
    let base: any SettlementRecordStore
    let journal: SettlementJournal

    func record(for key: SettlementKey) async throws -> SettlementRecord? { try await base.record(for: key) }

    func save(_ record: SettlementRecord) async throws {
        try await base.save(record)
        if case .pending = record.status {
            await journal.markSubmitted(transaction: record.transaction.hexString, schemeKey: record.key.description)
        }
    }

    func remove(_ key: SettlementKey) async throws { try await base.remove(key) }
}

extension SettlementKey {
    /// Parses the text form `eip155:<chain>/<token>/<payer>/<nonce>`.
    init?(text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 4, parts[0].hasPrefix("eip155:"), let chainID = UInt64(parts[0].dropFirst(7)),
            let token = try? EthereumAddress(String(parts[1])), let payer = try? EthereumAddress(String(parts[2])),
            let nonce = try? Bytes32(hex: parts[3])
        else { return nil }
        self.init(chainID: chainID, token: token, payer: payer, nonce: nonce)
    }
}
