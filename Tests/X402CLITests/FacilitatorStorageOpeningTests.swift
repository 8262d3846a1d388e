import Foundation
import Logging
import Testing
import X402
import X402Facilitator
import X402Postgres
import X402SQLite
import X402TestSupport

@testable import X402CLI

@Suite("facilitator storage opening")
struct FacilitatorStorageOpeningTests {
    static func temporaryDatabase() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("x402-cli-storage-\(UUID().uuidString)/facilitator.sqlite").path
    }

    @Test("the configuration's database selects the stores")
    func selection() async throws {
        let logger = Logger(label: "t")
        #expect(try FacilitatorConfiguration().databaseLocation() == .memory)
        var configuration = FacilitatorConfiguration()
        configuration.database = "memory"
        let memory = try await FacilitatorStorage.open(configuration.databaseLocation(), logger: logger)
        #expect(memory.discovery is InMemoryDiscoveryStore && memory.journal.store is InMemorySettlementJournalStore)

        configuration.database = "sqlite:" + Self.temporaryDatabase()
        let sqlite = try await FacilitatorStorage.open(configuration.databaseLocation(), logger: logger)
        #expect(sqlite.discovery is SQLiteDiscoveryStore && sqlite.journal.store is SQLiteSettlementStore)

        configuration.database = "redis://x"
        #expect(throws: FacilitatorConfigurationError.self) { try configuration.databaseLocation() }
    }

    @Test("the library refuses a database it was not given an opener for")
    func libraryDefault() throws {
        #expect(FacilitatorStorage.inMemory().discovery is InMemoryDiscoveryStore)
        #expect(throws: FacilitatorConfigurationError.self) { try FacilitatorStorage.openInMemoryOnly(.sqlite(path: "x.sqlite")) }
        #expect(throws: FacilitatorConfigurationError.self) { try FacilitatorStorage.openInMemoryOnly(.postgres(url: "postgres://u@h/db")) }
    }

    @Test("a PostgreSQL database holds the settlements and the discovery catalog", .postgres)
    func postgres() async throws {
        let storage = try await FacilitatorStorage.open(.postgres(url: try TestPostgres.requireURL()), logger: Logger(label: "t"))
        #expect(storage.discovery is PostgresDiscoveryStore && storage.journal.store is PostgresSettlementStore)
    }
}
