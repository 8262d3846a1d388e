public import Foundation
import GRDB
public import X402

/// The seller-signed `offer-receipt` receipts the buyer received, beside the spend ledger (v3).
extension SQLiteSpendLedger: SignedReceiptStore {
    static func createReceiptTable(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE offer_receipts (
                    id TEXT PRIMARY KEY NOT NULL,
                    record_id TEXT,
                    received_at REAL NOT NULL,
                    payer TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    network TEXT NOT NULL,
                    format TEXT NOT NULL,
                    status TEXT NOT NULL,
                    signer TEXT,
                    detail TEXT NOT NULL,
                    receipt TEXT NOT NULL
                );
                CREATE INDEX offer_receipts_payer_time ON offer_receipts(payer, received_at);
                """)
    }

    public func storeReceipt(_ stored: StoredReceipt) async throws {
        let payload = stored.receipt.payload
        let json = String(decoding: stored.receipt.jsonBytes(), as: UTF8.self)
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO offer_receipts (id, record_id, received_at, payer, resource, network, format, status, signer, detail, receipt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    stored.id.uuidString, stored.recordID?.uuidString, stored.receivedAt.timeIntervalSince1970, payload.payer.lowercased(),
                    payload.resourceUrl, payload.network, stored.receipt.format.rawValue, stored.status.rawValue, stored.signer,
                    stored.detail, json,
                ])
        }
    }

    public func receipts(payer: String?, limit: Int) async throws -> [StoredReceipt] {
        try await writer.read { db in
            let rows: [Row]
            if let payer {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM offer_receipts WHERE payer = ? ORDER BY received_at DESC, rowid DESC LIMIT ?",
                    arguments: [payer.lowercased(), max(0, limit)])
            } else {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM offer_receipts ORDER BY received_at DESC, rowid DESC LIMIT ?", arguments: [max(0, limit)])
            }
            return rows.compactMap(Self.storedReceipt)
        }
    }

    private static func storedReceipt(_ row: Row) -> StoredReceipt? {
        guard let id = UUID(uuidString: row["id"]), let status = OfferReceiptStatus(rawValue: row["status"]),
            let text: String = row["receipt"], let json = try? JSONValue(parsing: Array(text.utf8)),
            let receipt = try? SignedReceipt(json: json)
        else { return nil }
        let recordID: String? = row["record_id"]
        return StoredReceipt(
            id: id, recordID: recordID.flatMap(UUID.init(uuidString:)), receipt: receipt, status: status, signer: row["signer"],
            detail: row["detail"], receivedAt: Date(timeIntervalSince1970: row["received_at"]))
    }
}
