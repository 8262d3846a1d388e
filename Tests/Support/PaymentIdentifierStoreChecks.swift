// One set of behavioural checks for every PaymentIdentifierStore (the payment state stores: in
// memory, SQLite, PostgreSQL), run by X402Tests, X402SQLiteTests and X402PostgresTests.

import Foundation
import Testing
package import X402

/// Two handles on one backing store (two connections/pools/instances; the same object for memory).
package struct PaymentIdentifierStorePair: Sendable {
    package let first: any PaymentIdentifierStore
    package let second: any PaymentIdentifierStore

    package init(first: any PaymentIdentifierStore, second: any PaymentIdentifierStore) {
        self.first = first
        self.second = second
    }
}

/// The behaviour of the in-memory store's binding, which every shared store must match.
package enum PaymentIdentifierStoreCheck: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case newThenRepeatedAcrossInstances
    case anotherPaymentIsAConflict
    case idsAreIndependent
    case concurrentBindersAgreeOnOnePayment

    package var testDescription: String { rawValue }

    package func run(on stores: PaymentIdentifierStorePair) async throws {
        let a = stores.first
        let b = stores.second
        let now = Date()
        let id = PaymentIdentifier.generate()
        let payment = PaymentStateStoreCheck.freshIdentity()
        switch self {
        case .newThenRepeatedAcrossInstances:
            #expect(try await a.bind(paymentID: id, to: payment, now: now) == .new)
            #expect(try await b.bind(paymentID: id, to: payment, now: now) == .repeated)
            #expect(try await a.bind(paymentID: id, to: payment, now: now) == .repeated)

        case .anotherPaymentIsAConflict:
            #expect(try await a.bind(paymentID: id, to: payment, now: now) == .new)
            #expect(try await b.bind(paymentID: id, to: PaymentStateStoreCheck.freshIdentity(), now: now) == .conflict)
            // The conflict changed nothing: the first payment still owns the id.
            #expect(try await b.bind(paymentID: id, to: payment, now: now) == .repeated)

        case .idsAreIndependent:
            #expect(try await a.bind(paymentID: id, to: payment, now: now) == .new)
            #expect(try await b.bind(paymentID: PaymentIdentifier.generate(), to: payment, now: now) == .new)

        case .concurrentBindersAgreeOnOnePayment:
            let payments = (0..<8).map { _ in PaymentStateStoreCheck.freshIdentity() }
            let results = try await withThrowingTaskGroup(of: PaymentIdentifierBinding.self) { group in
                for (i, p) in payments.enumerated() {
                    let store = i % 2 == 0 ? a : b
                    group.addTask { try await store.bind(paymentID: id, to: p, now: now) }
                }
                var all: [PaymentIdentifierBinding] = []
                for try await r in group { all.append(r) }
                return all
            }
            #expect(results.filter { $0 == .new }.count == 1)
            #expect(results.filter { $0 == .conflict }.count == 7)
        }
    }
}
