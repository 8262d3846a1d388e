import Foundation
import Logging
import PostgresNIO
import Testing
import X402
import X402Postgres
import X402TestSupport

@Suite(.postgres) struct PostgresSettlementStoreTests {
    /// The lock's connection dies while the settlement runs (so its COMMIT fails): the settlement's
    /// own result comes back. It used to be an error, which the journal reported as "nothing was
    /// sent" although a transaction may have been (security review F12).
    // The lock's backend is terminated during the settlement: the release (COMMIT) then fails, or
    // waits forever in the driver (seen in 3 of 4 runs before the release was bounded); either way
    // the settlement's result comes back.
    @Test
    func aFailedLockReleaseStillReturnsTheSettlementsResult() async throws {
        let database = try await TestPostgres.open(maximumConnections: 4)
        let store = try await PostgresSettlementStore(database: database, lockConnections: 2)
        defer { store.close() }
        let key = "test-payment-\(UInt64.random(in: 0...UInt64.max))"
        // The store's advisory-lock key for this payment (FNV-1a of "x402 settle <key>"), as pg_locks shows it.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in ("x402 settle " + key).utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let lock = hash
        let result = try await store.exclusively(key) { () async -> String in
            // Kill the backend that holds this payment's advisory lock (the lock transaction).
            var killed = 0
            do {
                let rows = try await database.client.query(
                    """
                    SELECT pg_terminate_backend(l.pid) FROM pg_locks l
                    WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid()
                        AND l.classid::bigint = \(Int64(lock >> 32)) AND l.objid::bigint = \(Int64(lock & 0xFFFF_FFFF)) AND l.objsubid = 1
                    """, logger: Logger(label: "test"))
                for try await _ in rows { killed += 1 }
            } catch {}
            return "sent 0xabc (killed \(killed))"
        }
        #expect(result.hasPrefix("sent 0xabc"))
        #expect(!result.hasSuffix("(killed 0)"), "the lock's backend was not found: the fault was not injected")
    }

    @Test func schemeRowsKeepTheirDetailAndListByStatus() async throws {
        let database = try await TestPostgres.open(maximumConnections: 2)
        let store = try await PostgresSettlementStore(database: database, lockConnections: 1)
        defer { store.close() }
        let key = "eip155:1/test/\(UInt64.random(in: 0...UInt64.max))"
        let row = SchemeSettlementRow(
            key: key, transaction: "0x01", status: "pending", updatedAt: 1, detail: #"{"owner":"x402-owner-0000000000000001"}"#)
        try await store.saveSchemeRecord(row)
        #expect(try await store.schemeRecord(key: key) == row)
        #expect(try await store.schemeRecords(status: "pending", limit: 100_000).contains(row))
        try await store.removeSchemeRecord(key: key)
        #expect(try await store.schemeRecord(key: key) == nil)
    }
}
