import Testing
import X402
import X402TestSupport

/// The reference: the in-memory store passes every check.
@Suite struct InMemoryPaymentStateStoreChecks {
    @Test(arguments: PaymentStateStoreCheck.allCases)
    func inMemory(_ check: PaymentStateStoreCheck) async throws {
        let store = InMemoryPaymentStateStore()
        try await check.run(on: PaymentStateStorePair(first: store, second: store))
    }
}
