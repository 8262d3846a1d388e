import X402
import X402EVM

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
