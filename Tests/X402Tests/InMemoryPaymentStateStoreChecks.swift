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

/// The reference: the in-memory access store passes every check.
@Suite struct InMemorySignInAccessStoreChecks {
    @Test(arguments: SignInAccessStoreCheck.allCases)
    func inMemory(_ check: SignInAccessStoreCheck) async throws {
        let store = InMemorySignInAccessStore()
        try await check.run(on: SignInAccessStorePair(first: store, second: store))
    }
}

/// The reference: the in-memory store binds payment identifiers as every shared store must.
@Suite struct InMemoryPaymentIdentifierStoreChecks {
    @Test(arguments: PaymentIdentifierStoreCheck.allCases)
    func inMemory(_ check: PaymentIdentifierStoreCheck) async throws {
        let store = InMemoryPaymentStateStore()
        try await check.run(on: PaymentIdentifierStorePair(first: store, second: store))
    }

    /// Two seller instances on one in-memory store race one id with two payments.
    @Test func twoSellersOnOneStoreSettleOneIdOnce() async throws {
        let store = InMemoryPaymentStateStore()
        try await PaymentIdentifierRace.run(first: store, second: store)
    }
}

/// The reference: the in-memory discovery store passes every catalog check.
@Suite struct InMemoryDiscoveryStoreChecks {
    @Test(arguments: DiscoveryStoreCheck.allCases)
    func inMemory(_ check: DiscoveryStoreCheck) async throws {
        try await check.run(on: InMemoryDiscoveryStore())
    }
}
