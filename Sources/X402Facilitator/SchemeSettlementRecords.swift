import X402
import X402EVM

/// The EVM scheme's ``SettlementRecordStore`` kept beside the journal, in whichever database the
/// facilitator uses (SQLite or PostgreSQL).
struct SchemeSettlementRecords: SettlementRecordStore {
    let store: any SchemeSettlementRowStore

    func record(for key: SettlementKey) async throws -> SettlementRecord? {
        guard let row = try await store.schemeRecord(key: key.description) else { return nil }
        guard let status = SettlementRecord.Status(status: row.status, reason: row.reason, message: row.message) else {
            throw FacilitatorStorageError("scheme settlement row \(row.key) has unknown status \(row.status)")
        }
        var record = SettlementRecord(
            key: key, transaction: try Bytes32(hex: row.transaction), status: status, updatedAt: UInt64(max(0, row.updatedAt)))
        record.applyDetail(row.detail)
        return record
    }

    func save(_ record: SettlementRecord) async throws {
        let columns = record.status.columns
        try await store.saveSchemeRecord(
            SchemeSettlementRow(
                key: record.key.description, transaction: record.transaction.hexString, status: columns.status,
                reason: columns.reason, message: columns.message, updatedAt: Int64(clamping: record.updatedAt), detail: record.detailText))
    }

    func remove(_ key: SettlementKey) async throws { try await store.removeSchemeRecord(key: key.description) }
}

/// A stored settlement row this version cannot read.
struct FacilitatorStorageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// How an EVM settlement record's status is kept in a database row (SQLite and PostgreSQL alike):
/// `pending`, `succeeded` or `failed` with the reason and message.
extension SettlementRecord.Status {
    /// The column values for this status.
    var columns: (status: String, reason: String?, message: String?) {
        switch self {
        case .pending: return ("pending", nil, nil)
        case .succeeded: return ("succeeded", nil, nil)
        case .failed(let reason, let message): return ("failed", reason.rawValue, message)
        }
    }

    /// The status stored in a row, or nil for a status this version does not know.
    init?(status: String, reason: String?, message: String?) {
        switch status {
        case "pending": self = .pending
        case "succeeded": self = .succeeded
        case "failed": self = .failed(reason: ErrorReason(rawValue: reason ?? ErrorReason.transactionFailed.rawValue), message: message)
        default: return nil
        }
    }
}
