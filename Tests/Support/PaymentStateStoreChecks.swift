// One set of behavioural checks for every PaymentStateStore (in memory, SQLite, PostgreSQL), run by
// X402Tests (the in-memory reference), X402SQLiteTests and X402PostgresTests.

import Foundation
import Testing
package import X402

/// Two handles on one backing store (two connections/pools/instances; the same object for memory).
package struct PaymentStateStorePair: Sendable {
    package let first: any PaymentStateStore
    package let second: any PaymentStateStore

    package init(first: any PaymentStateStore, second: any PaymentStateStore) {
        self.first = first
        self.second = second
    }
}

/// The behaviour of ``InMemoryPaymentStateStore``, which every shared store must match.
package enum PaymentStateStoreCheck: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case claimThenRejectInFlight
    case verifiedInFlightIsRejected
    case staleClaimExpires
    case failedIsClaimableAgain
    case settledIsFinal
    case releaseForgets
    case updateKeepsKnownPayerAndTransaction
    case updateWithoutClaimCreatesRecord
    case concurrentClaimsAcrossInstancesHaveOneWinner
    case distinctPaymentsDoNotInterfere
    case pendingIsResumedWithItsSettlementID

    package var testDescription: String { rawValue }

    package static func freshIdentity() -> PaymentIdentity {
        PaymentIdentity(key: (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: 0...UInt64.max)) }.joined())
    }

    package func run(on stores: PaymentStateStorePair) async throws {
        let a = stores.first
        let b = stores.second
        let id = Self.freshIdentity()
        let t0 = Date(timeIntervalSince1970: 1_900_000_000.25)
        let lease = Duration.seconds(30)
        switch self {
        case .claimThenRejectInFlight:
            #expect(try await a.record(for: id) == nil)
            #expect(try await a.claim(id, lease: lease, now: t0) == .claimed)
            let again = try await b.claim(id, lease: lease, now: t0.addingTimeInterval(1))
            guard case .rejected(let record) = again else {
                Issue.record("second claim of an in-flight payment was not rejected: \(again)")
                return
            }
            #expect(record.identity == id)
            #expect(record.phase == .presented)
            #expect(abs(record.updatedAt.timeIntervalSince(t0)) < 0.001)
            #expect(try await a.record(for: id)?.phase == .presented)

        case .verifiedInFlightIsRejected:
            #expect(try await a.claim(id, lease: lease, now: t0) == .claimed)
            try await a.update(id, to: .verified, payer: "0xPayer", transaction: nil, now: t0.addingTimeInterval(1))
            let inFlight = try await b.claim(id, lease: lease, now: t0.addingTimeInterval(10))
            guard case .rejected(let record) = inFlight else {
                Issue.record("claim of a verified in-flight payment was not rejected: \(inFlight)")
                return
            }
            #expect(record.phase == .verified)
            #expect(record.payer == "0xPayer")
            // The lease of the original claim still bounds the verified phase.
            #expect(try await b.claim(id, lease: lease, now: t0.addingTimeInterval(31)) == .claimed)

        case .staleClaimExpires:
            #expect(try await a.claim(id, lease: .seconds(2), now: t0) == .claimed)
            #expect(try await b.claim(id, lease: .seconds(2), now: t0.addingTimeInterval(1.5)) != .claimed)
            #expect(try await b.claim(id, lease: .seconds(2), now: t0.addingTimeInterval(2.5)) == .claimed)
            // The new owner's lease now counts.
            #expect(try await a.claim(id, lease: .seconds(2), now: t0.addingTimeInterval(3)) != .claimed)
            let record = try await a.record(for: id)
            #expect(record?.phase == .presented)
            #expect(abs((record?.updatedAt ?? .distantPast).timeIntervalSince(t0.addingTimeInterval(2.5))) < 0.001)

        case .failedIsClaimableAgain:
            #expect(try await a.claim(id, lease: lease, now: t0) == .claimed)
            try await a.update(id, to: .failed, payer: "0xPayer", transaction: nil, now: t0.addingTimeInterval(1))
            #expect(try await b.record(for: id)?.phase == .failed)
            #expect(try await b.claim(id, lease: lease, now: t0.addingTimeInterval(2)) == .claimed)
            let record = try await a.record(for: id)
            #expect(record?.phase == .presented)
            #expect(record?.payer == nil)
            #expect(try await a.claim(id, lease: lease, now: t0.addingTimeInterval(3)) != .claimed)

        case .settledIsFinal:
            #expect(try await a.claim(id, lease: .seconds(1), now: t0) == .claimed)
            try await a.update(id, to: .verified, payer: "0xPayer", transaction: nil, now: t0)
            try await a.update(id, to: .settled, payer: nil, transaction: "0xTx", now: t0.addingTimeInterval(0.5))
            for offset in [1.0, 10, 3600] {
                let later = try await b.claim(id, lease: .seconds(1), now: t0.addingTimeInterval(offset))
                guard case .rejected(let record) = later else {
                    Issue.record("a settled payment was claimed again after \(offset) s")
                    return
                }
                #expect(record.phase == .settled)
                #expect(record.payer == "0xPayer")
                #expect(record.transaction == "0xTx")
            }

        case .pendingIsResumedWithItsSettlementID:
            #expect(try await a.claim(id, lease: lease, now: t0) == .claimed)
            try await a.update(id, to: .verified, payer: "0xPayer", transaction: nil, now: t0)
            try await a.beginSettlement(id, settlementID: "x402-settlement-0001", now: t0.addingTimeInterval(1))
            // While the facilitator settles, the claim's lease still refuses another presentation.
            let during = try await b.claim(id, lease: lease, now: t0.addingTimeInterval(2))
            guard case .rejected(let running) = during else {
                Issue.record("a payment being settled was claimed again: \(during)")
                return
            }
            #expect(running.phase == .pending)
            // `settlement_pending`: the lease ends; the next presentation resumes with the same id.
            try await a.update(id, to: .pending, payer: nil, transaction: "0xTx", now: t0.addingTimeInterval(3))
            let resumed = try await b.claim(id, lease: lease, now: t0.addingTimeInterval(4))
            guard case .resumed(let record) = resumed else {
                Issue.record("a pending payment was not resumed: \(resumed)")
                return
            }
            #expect(record.settlementID == "x402-settlement-0001")
            #expect(record.transaction == "0xTx")
            #expect(record.payer == "0xPayer")
            #expect(record.phase == .pending)
            // The resumed claim holds a lease like any other.
            let concurrent = try await a.claim(id, lease: lease, now: t0.addingTimeInterval(5))
            guard case .rejected = concurrent else {
                Issue.record("a resumed payment was claimed twice: \(concurrent)")
                return
            }
            try await b.update(id, to: .settled, payer: nil, transaction: "0xTx", now: t0.addingTimeInterval(6))
            let after = try await a.claim(id, lease: lease, now: t0.addingTimeInterval(7))
            guard case .rejected(let settled) = after else {
                Issue.record("a settled payment was claimed again: \(after)")
                return
            }
            #expect(settled.phase == .settled && settled.settlementID == nil)

        case .releaseForgets:
            #expect(try await a.claim(id, lease: lease, now: t0) == .claimed)
            try await a.release(id)
            #expect(try await b.record(for: id) == nil)
            #expect(try await b.claim(id, lease: lease, now: t0.addingTimeInterval(1)) == .claimed)
            try await b.release(Self.freshIdentity())  // releasing an unknown payment is fine

        case .updateKeepsKnownPayerAndTransaction:
            #expect(try await a.claim(id, lease: lease, now: t0) == .claimed)
            try await a.update(id, to: .verified, payer: "0xPayer", transaction: nil, now: t0)
            try await b.update(id, to: .settled, payer: nil, transaction: "0xTx", now: t0.addingTimeInterval(2))
            try await a.update(id, to: .settled, payer: "0xOther", transaction: nil, now: t0.addingTimeInterval(3))
            let record = try await b.record(for: id)
            #expect(record?.phase == .settled)
            #expect(record?.payer == "0xOther")
            #expect(record?.transaction == "0xTx")
            #expect(abs((record?.updatedAt ?? .distantPast).timeIntervalSince(t0.addingTimeInterval(3))) < 0.001)

        case .updateWithoutClaimCreatesRecord:
            try await a.update(id, to: .verified, payer: nil, transaction: nil, now: t0)
            #expect(try await b.record(for: id)?.phase == .verified)
            // No lease was ever taken, so nothing holds the payment.
            #expect(try await b.claim(id, lease: lease, now: t0) == .claimed)

        case .concurrentClaimsAcrossInstancesHaveOneWinner:
            let attempts = 50
            let outcomes = try await withThrowingTaskGroup(of: PaymentClaim.self) { group in
                for i in 0..<attempts {
                    let store = i.isMultiple(of: 2) ? a : b
                    group.addTask { try await store.claim(id, lease: lease, now: t0) }
                }
                var all: [PaymentClaim] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            #expect(outcomes.count == attempts)
            #expect(outcomes.filter { $0 == .claimed }.count == 1)
            let rejectedPhases = outcomes.compactMap { outcome -> PaymentPhase? in
                if case .rejected(let record) = outcome { return record.phase }
                return nil
            }
            #expect(rejectedPhases.count == attempts - 1)
            #expect(rejectedPhases.allSatisfy { $0 == .presented })

        case .distinctPaymentsDoNotInterfere:
            let other = Self.freshIdentity()
            #expect(try await a.claim(id, lease: lease, now: t0) == .claimed)
            #expect(try await b.claim(other, lease: lease, now: t0) == .claimed)
            try await a.update(id, to: .settled, payer: nil, transaction: "0x1", now: t0)
            #expect(try await b.record(for: other)?.phase == .presented)
            #expect(try await b.record(for: other)?.transaction == nil)
        }
    }
}
