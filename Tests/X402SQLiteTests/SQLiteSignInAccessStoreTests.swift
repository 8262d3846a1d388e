import Foundation
import Testing
import X402
import X402SQLite
import X402TestSupport

@Suite struct SQLiteSignInAccessStoreTests {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("x402-signin-\(UUID().uuidString)/signin.sqlite").path
    }

    /// Two stores (two connection pools) on one file, as two processes would have.
    @Test(arguments: SignInAccessStoreCheck.allCases)
    func behavesLikeTheInMemoryStore(_ check: SignInAccessStoreCheck) async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        let stores = SignInAccessStorePair(first: try SQLiteSignInAccessStore(path: path), second: try SQLiteSignInAccessStore(path: path))
        try await check.run(on: stores)
    }

    @Test func grantsSurviveReopening() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        let now = Date()
        do {
            let store = try SQLiteSignInAccessStore(path: path)
            try await store.recordGrant(SignInGrant(resource: "/a", account: "0xAbC", expiresAt: .distantFuture))
            #expect(try await store.consumeNonce("n0nce123", expiresAt: now.addingTimeInterval(60), now: now))
        }
        let reopened = try SQLiteSignInAccessStore(path: path)
        #expect(try await reopened.hasAccess(resource: "/a", account: "0xabc", now: now))
        #expect(try await reopened.consumeNonce("n0nce123", expiresAt: now.addingTimeInterval(60), now: now) == false)
    }
}

@Suite struct SQLitePaymentIdentifierStoreTests {
    /// Two payment state stores (two connection pools) on one file, as two processes would have.
    @Test(arguments: PaymentIdentifierStoreCheck.allCases)
    func behavesLikeTheInMemoryStore(_ check: PaymentIdentifierStoreCheck) async throws {
        let path = SQLiteSignInAccessStoreTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        let stores = PaymentIdentifierStorePair(first: try SQLitePaymentStateStore(path: path), second: try SQLitePaymentStateStore(path: path))
        try await check.run(on: stores)
    }

    /// Two seller instances, each with its own store on one file, race one id with two payments.
    @Test func twoSellersOnOneFileSettleOneIdOnce() async throws {
        let path = SQLiteSignInAccessStoreTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        try await PaymentIdentifierRace.run(first: try SQLitePaymentStateStore(path: path), second: try SQLitePaymentStateStore(path: path))
    }
}
