import Foundation
import Testing
import X402
import X402SQLite

/// The spend ledger's `offer-receipt` receipts (migration v3): stored with their verdict, listed
/// newest first per payer, and read back unchanged after reopening the file.
@Suite("SQLite spend ledger: signed receipts")
struct SQLiteReceiptStoreTests {
    static func receipt(payer: String, issuedAt: UInt64) -> SignedReceipt {
        SignedReceipt(
            eip712: ReceiptPayload(network: "eip155:84532", resourceUrl: "https://x/y", payer: payer, issuedAt: issuedAt, transaction: "0xaa"),
            signature: "0x" + String(repeating: "ab", count: 65))
    }

    @Test("stored receipts are listed newest first, filtered by payer case-insensitively, and survive reopening")
    func storeAndList() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("x402-receipts-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let record = UUID()
        do {
            let ledger = try SQLiteSpendLedger(path: path)
            try await ledger.storeReceipt(
                StoredReceipt(
                    recordID: record, receipt: Self.receipt(payer: "0xAbC", issuedAt: 1), status: .verified, signer: "0xseller", detail: "ok",
                    receivedAt: Date(timeIntervalSince1970: 100)))
            try await ledger.storeReceipt(
                StoredReceipt(
                    recordID: nil, receipt: Self.receipt(payer: "0xabc", issuedAt: 2), status: .invalid, signer: nil, detail: "bad",
                    receivedAt: Date(timeIntervalSince1970: 200)))
            try await ledger.storeReceipt(
                StoredReceipt(
                    recordID: nil, receipt: Self.receipt(payer: "0xdef", issuedAt: 3), status: .unpinned, signer: "did:key:z", detail: "?",
                    receivedAt: Date(timeIntervalSince1970: 300)))
        }
        let reopened = try SQLiteSpendLedger(path: path)
        let mine = try await reopened.receipts(payer: "0xABC", limit: 10)
        #expect(mine.map(\.status) == [.invalid, .verified])
        #expect(mine.last?.recordID == record)
        #expect(mine.last?.signer == "0xseller")
        #expect(mine.last?.receipt == Self.receipt(payer: "0xAbC", issuedAt: 1))
        #expect(try await reopened.receipts(payer: nil, limit: 2).map(\.receipt.payload.issuedAt) == [3, 2])
        #expect(try await reopened.receipts(payer: "0x123", limit: 10).isEmpty)
    }
}
