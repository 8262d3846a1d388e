// One set of behavioural checks for every SignInAccessStore (in memory, SQLite, PostgreSQL), run by
// X402Tests (the in-memory reference), X402SQLiteTests and X402PostgresTests.

import Foundation
import Testing
package import X402

/// Two handles on one backing access store (two connections/pools/instances; the same object for memory).
package struct SignInAccessStorePair: Sendable {
    package let first: any SignInAccessStore
    package let second: any SignInAccessStore

    package init(first: any SignInAccessStore, second: any SignInAccessStore) {
        self.first = first
        self.second = second
    }
}

/// The behaviour of ``InMemorySignInAccessStore``, which every shared store must match.
package enum SignInAccessStoreCheck: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case grantIsSeenByTheOtherInstance
    case grantEndsAtItsExpiry
    case grantIsPerResourceAndAccount
    case laterExpiryWinsEarlierDoesNotShorten
    case evmAccountsCompareCaseInsensitively
    case base58AccountsCompareExactly
    case nonceIsSingleUseAcrossInstances
    case expiredNonceRecordMayBeReused
    case concurrentNonceConsumersHaveOneWinner

    package var testDescription: String { rawValue }

    static func fresh() -> String { (0..<2).map { _ in String(format: "%016llx", UInt64.random(in: 0...UInt64.max)) }.joined() }

    package func run(on stores: SignInAccessStorePair) async throws {
        let a = stores.first
        let b = stores.second
        let t0 = Date(timeIntervalSince1970: 1_900_000_000.5)
        let account = "0x" + Self.fresh() + "abcdef01"
        let resource = "/premium/" + Self.fresh()
        switch self {
        case .grantIsSeenByTheOtherInstance:
            #expect(try await b.hasAccess(resource: resource, account: account, now: t0) == false)
            try await a.recordGrant(SignInGrant(resource: resource, account: account, expiresAt: t0.addingTimeInterval(60)))
            #expect(try await b.hasAccess(resource: resource, account: account, now: t0.addingTimeInterval(1)) == true)

        case .grantEndsAtItsExpiry:
            try await a.recordGrant(SignInGrant(resource: resource, account: account, expiresAt: t0.addingTimeInterval(10)))
            #expect(try await b.hasAccess(resource: resource, account: account, now: t0.addingTimeInterval(9.9)) == true)
            #expect(try await b.hasAccess(resource: resource, account: account, now: t0.addingTimeInterval(10)) == false)
            #expect(try await b.hasAccess(resource: resource, account: account, now: t0.addingTimeInterval(11)) == false)

        case .grantIsPerResourceAndAccount:
            try await a.recordGrant(SignInGrant(resource: resource, account: account, expiresAt: t0.addingTimeInterval(60)))
            #expect(try await b.hasAccess(resource: resource + "/other", account: account, now: t0) == false)
            #expect(try await b.hasAccess(resource: resource, account: "0x" + Self.fresh() + "00000000", now: t0) == false)

        case .laterExpiryWinsEarlierDoesNotShorten:
            try await a.recordGrant(SignInGrant(resource: resource, account: account, expiresAt: t0.addingTimeInterval(10)))
            try await b.recordGrant(SignInGrant(resource: resource, account: account, expiresAt: t0.addingTimeInterval(100)))
            #expect(try await a.hasAccess(resource: resource, account: account, now: t0.addingTimeInterval(50)) == true)
            try await a.recordGrant(SignInGrant(resource: resource, account: account, expiresAt: t0.addingTimeInterval(20)))
            #expect(try await b.hasAccess(resource: resource, account: account, now: t0.addingTimeInterval(50)) == true)
            #expect(try await b.hasAccess(resource: resource, account: account, now: t0.addingTimeInterval(100)) == false)

        case .evmAccountsCompareCaseInsensitively:
            try await a.recordGrant(
                SignInGrant(
                    resource: resource, account: account.uppercased().replacingOccurrences(of: "0X", with: "0x"), expiresAt: t0.addingTimeInterval(60)
                ))
            #expect(try await b.hasAccess(resource: resource, account: account.lowercased(), now: t0) == true)

        case .base58AccountsCompareExactly:
            let solana = "So1" + Self.fresh() + "Abc"
            try await a.recordGrant(SignInGrant(resource: resource, account: solana, expiresAt: t0.addingTimeInterval(60)))
            #expect(try await b.hasAccess(resource: resource, account: solana, now: t0) == true)
            #expect(try await b.hasAccess(resource: resource, account: solana.lowercased(), now: t0) == false)

        case .nonceIsSingleUseAcrossInstances:
            let nonce = Self.fresh()
            #expect(try await a.consumeNonce(nonce, expiresAt: t0.addingTimeInterval(300), now: t0) == true)
            #expect(try await b.consumeNonce(nonce, expiresAt: t0.addingTimeInterval(300), now: t0.addingTimeInterval(1)) == false)
            #expect(try await a.consumeNonce(nonce, expiresAt: t0.addingTimeInterval(300), now: t0.addingTimeInterval(2)) == false)
            #expect(try await b.consumeNonce(Self.fresh(), expiresAt: t0.addingTimeInterval(300), now: t0) == true)

        case .expiredNonceRecordMayBeReused:
            let nonce = Self.fresh()
            #expect(try await a.consumeNonce(nonce, expiresAt: t0.addingTimeInterval(5), now: t0) == true)
            #expect(try await b.consumeNonce(nonce, expiresAt: t0.addingTimeInterval(10), now: t0.addingTimeInterval(6)) == true)
            #expect(try await a.consumeNonce(nonce, expiresAt: t0.addingTimeInterval(20), now: t0.addingTimeInterval(7)) == false)

        case .concurrentNonceConsumersHaveOneWinner:
            let nonce = Self.fresh()
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<16 {
                    let store = i % 2 == 0 ? a : b
                    group.addTask { try await store.consumeNonce(nonce, expiresAt: t0.addingTimeInterval(300), now: t0) }
                }
                var count = 0
                for try await won in group where won { count += 1 }
                return count
            }
            #expect(wins == 1)
        }
    }
}
