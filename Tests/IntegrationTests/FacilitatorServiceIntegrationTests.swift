import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import Testing
import X402
import X402EVM
import X402EVMRPC
import X402SQLite

@testable import X402Facilitator

/// The facilitator service started in process on the devnet, driven over HTTP.
@Suite("facilitator service on the devnet", .devnet)
struct FacilitatorServiceIntegrationTests {
    /// A running service on a free port, with its own fresh gas key and SQLite file.
    struct Running {
        let url: String
        let task: Task<Void, any Error>
        let facilitator: DevnetAccount

        func stop() async {
            task.cancel()
            _ = try? await task.value
        }
    }

    static func start(devnet: Devnet, facilitator: DevnetAccount, database: String) async throws -> Running {
        var c = FacilitatorConfiguration()
        c.port = 0
        c.networks = [.init(network: try #require(Network(devnet.network)), rpcURL: devnet.url)]
        c.signerKeyEnv = ["FACILITATOR_KEY"]
        c.database = "sqlite:" + database
        c.receiptTimeoutSeconds = 60
        // The library takes its stores as protocols; the CLI opens them the same way.
        let service = try await FacilitatorService(
            configuration: c,
            openStorage: { location in
                guard case .sqlite(let path) = location else { throw FacilitatorConfigurationError.database("expected SQLite, got \(location)") }
                return FacilitatorStorage(settlements: try SQLiteSettlementStore(path: path), discovery: try SQLiteDiscoveryStore(path: path))
            },
            environment: ["FACILITATOR_KEY": facilitator.key.withUnsafeSecretBytes { Hex.encode($0) }])
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = service.application { channel in
            continuation.yield(channel.localAddress?.port ?? 0)
            continuation.finish()
        }
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var port = 0
        for await p in ports { port = p }
        return Running(url: "http://127.0.0.1:\(port)", task: task, facilitator: facilitator)
    }

    static func post(_ url: String, _ body: [UInt8], settlementID: String? = nil) async throws -> (Int, JSONValue) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let settlementID { request.headers.add(name: SettlementIdempotency.headerName, value: settlementID) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(90))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), try JSONValue(parsing: bytes.readableBytesView))
    }

    static func temporaryDatabase() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("x402-facilitator-it-\(UUID().uuidString).sqlite").path
    }

    @Test("verify + settle over HTTP with a Swift-signed payment: balances move exactly; a repeat settles nothing new")
    func verifyAndSettle() async throws {
        let devnet = try await Devnet.shared()
        async let facilitatorAccount = devnet.freshAccount()
        async let payerAccount = devnet.freshAccount(eth: .zero, usdc: 1_000_000)
        let payer = try await payerAccount
        let running = try await Self.start(devnet: devnet, facilitator: try await facilitatorAccount, database: Self.temporaryDatabase())
        defer { Task { await running.stop() } }

        let payee = devnet.randomAddress()
        let network = try #require(Network(devnet.network))
        let requirements = PaymentRequirements(
            scheme: "exact", network: network, amount: "4321", asset: devnet.token.checksummed, payTo: payee.checksummed,
            maxTimeoutSeconds: 120, extra: ["name": "USDC", "version": "2"])
        let signed = try await ExactEVMClient(signer: payer.key).createPayload(for: requirements, context: PaymentContext(version: .v2))
        let request = FacilitatorRequest(
            paymentPayload: .v2(PaymentPayload(accepted: requirements, payload: signed.payload)), paymentRequirements: .v2(requirements))

        let (supportedStatus, supported) = try await Self.get(running.url + "/supported")
        #expect(supportedStatus == 200)
        #expect(supported["kinds"]?.arrayValue?.contains { $0["network"] == .string(devnet.network) } == true)

        let payerBefore = try await devnet.usdcBalance(of: payer.address)
        let (vs, verified) = try await Self.post(running.url + "/verify", request.jsonBytes())
        #expect(vs == 200 && verified["isValid"] == true, "\(verified)")
        #expect(verified["payer"] == .string(payer.address.checksummed))

        let (ss, settled) = try await Self.post(running.url + "/settle", request.jsonBytes())
        #expect(ss == 200 && settled["success"] == true, "\(settled)")
        let hash = try Bytes32(hex: try #require(settled["transaction"]?.stringValue))
        let receipt = try #require(try await devnet.client.transactionReceipt(hash))
        #expect(receipt.succeeded && receipt.from == running.facilitator.address)
        #expect(payerBefore - (try await devnet.usdcBalance(of: payer.address)) == 4321)
        #expect(try await devnet.usdcBalance(of: payee) == 4321)

        let nonce = try await devnet.client.transactionCount(of: running.facilitator.address, at: .latest)
        // A repeat without the owner's settlement id is refused, naming the transaction (review F2).
        let (_, again) = try await Self.post(running.url + "/settle", request.jsonBytes())
        #expect(again["success"] == false && again["transaction"] == settled["transaction"], "\(again)")
        #expect(again["errorReason"] == "invalid_exact_evm_nonce_already_used")
        #expect(try await devnet.client.transactionCount(of: running.facilitator.address, at: .latest) == nonce)
        #expect(try await devnet.usdcBalance(of: payee) == 4321)

        let (bad, problem) = try await Self.post(running.url + "/settle", Array("{}".utf8))
        #expect(bad == 400 && problem["field"] == "paymentPayload")
    }

    @Test("restart after broadcast, before the confirmation was recorded: resumed by receipt lookup, never resent")
    func resumeAfterRestart() async throws {
        let devnet = try await Devnet.shared()
        async let facilitatorAccount = devnet.freshAccount()
        async let payerAccount = devnet.freshAccount(eth: .zero, usdc: 1_000_000)
        let payer = try await payerAccount
        let facilitator = try await facilitatorAccount
        let database = Self.temporaryDatabase()

        let payee = devnet.randomAddress()
        let network = try #require(Network(devnet.network))
        let requirements = PaymentRequirements(
            scheme: "exact", network: network, amount: "999", asset: devnet.token.checksummed, payTo: payee.checksummed,
            maxTimeoutSeconds: 120, extra: ["name": "USDC", "version": "2"])
        let signed = try await ExactEVMClient(signer: payer.key).createPayload(for: requirements, context: PaymentContext(version: .v2))
        let request = FacilitatorRequest(
            paymentPayload: .v2(PaymentPayload(accepted: requirements, payload: signed.payload)), paymentRequirements: .v2(requirements))

        let first = try await Self.start(devnet: devnet, facilitator: facilitator, database: database)
        // The seller's settlement id: only its retries get the recorded success again.
        let owner = SettlementIdempotency.newID()
        let (_, settled) = try await Self.post(first.url + "/settle", request.jsonBytes(), settlementID: owner)
        await first.stop()
        #expect(settled["success"] == true, "\(settled)")
        let transaction = try #require(settled["transaction"]?.stringValue)

        // Rewind the records to the moment after broadcast, before the receipt was recorded.
        let store = try SQLiteSettlementStore(path: database)
        let id = SettlementJournal.id(of: request, settlementID: owner)
        var entry = try #require(try await store.entry(id: id))
        #expect(entry.status == .confirmed && entry.transaction == transaction)
        let key = try #require(entry.schemeKey)
        entry.status = .submitted
        entry.response = nil
        entry.updatedAt = Date(timeIntervalSince1970: 0)
        try await store.save(entry)
        var row = try #require(try await store.schemeRecord(key: key))
        row.status = "pending"
        try await store.saveSchemeRecord(row)

        let nonce = try await devnet.client.transactionCount(of: facilitator.address, at: .latest)
        let second = try await Self.start(devnet: devnet, facilitator: facilitator, database: database)
        defer { Task { await second.stop() } }
        // The resume pass runs at start-up; wait until it has recorded the receipt (a loaded devnet
        // answers slowly: the whole suite once took more than 10 s here).
        var resumed: SettlementJournalEntry?
        try await devnet.waitUntil("the restarted service to resume the settlement", timeout: .seconds(60)) {
            resumed = try await store.entry(id: id)
            return resumed?.status == .confirmed
        }
        #expect(resumed?.status == .confirmed)
        #expect(resumed?.response?.transaction == transaction)
        #expect(try await store.schemeRecord(key: key)?.status == "succeeded")

        let (_, again) = try await Self.post(second.url + "/settle", request.jsonBytes(), settlementID: owner)
        #expect(again["success"] == true && again["transaction"] == .string(transaction))
        #expect(try await devnet.client.transactionCount(of: facilitator.address, at: .latest) == nonce)
        #expect(try await devnet.usdcBalance(of: payee) == 999)
    }

    static func get(_ url: String) async throws -> (Int, JSONValue) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), try JSONValue(parsing: bytes.readableBytesView))
    }
}
