import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import X402
import X402EVM
import X402EVMRPC
import X402SQLite
import X402TestSupport

@testable import X402Facilitator

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `x402 facilitator serve` as a real child process: found through `X402_CLI` or next to the
/// test bundle, given its signer key in the environment, listening on a free port.
final class FacilitatorProcess: @unchecked Sendable {
    let process: Process
    let url: String
    let logPath: String

    /// Starts the facilitator on the devnet and waits until `/health` answers.
    convenience init(
        devnet: Devnet, key: PrivateKey, database: String, extraArguments: [String] = [], environment extraEnvironment: [String: String] = [:]
    ) async throws {
        var environment = extraEnvironment
        environment["X402_IT_FACILITATOR_KEY"] = key.withUnsafeSecretBytes { Hex.encode($0) }
        try await self.init(environment: environment) { port in
            [
                "facilitator", "serve", "--network", "\(devnet.network)=\(devnet.url)", "--signer-key-env", "X402_IT_FACILITATOR_KEY",
                "--port", "\(port)", "--database", "sqlite:" + database,
            ] + extraArguments
        }
    }

    /// Starts `x402` with `arguments(port)` (a free loopback port) and `environment` over this
    /// process's (secrets go there, never into the arguments), and waits until `/health` answers.
    init(environment extraEnvironment: [String: String] = [:], arguments: (Int) -> [String]) async throws {
        let port = try freeLoopbackPort()
        url = "http://127.0.0.1:\(port)"
        logPath = FileManager.default.temporaryDirectory.appendingPathComponent("x402-facilitator-\(port)-\(UUID().uuidString).log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process = Process()
        process.executableURL = try x402Executable()
        process.arguments = arguments(port)
        var environment = ProcessInfo.processInfo.environment
        environment["X402_TEST_CRASH_AT"] = nil
        for (name, value) in extraEnvironment { environment[name] = value }
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        while clock.now < deadline {
            if !process.isRunning { throw DevnetError(description: "facilitator exited at start: \(self.log())") }
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: url + "/health"), timeout: .seconds(2)),
                response.status.code == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        process.terminate()
        throw DevnetError(description: "facilitator did not answer /health within 60 s: \(self.log())")
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)).map { String($0.suffix(4000)) } ?? "" }

    /// Sends `signal` and waits for the process to end; returns its termination status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(30)) async -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while process.isRunning && clock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// The facilitator binary on the devnet: killed between broadcast and confirmation, and stopped
/// gracefully during a settlement.
@Suite("facilitator process on the devnet", .devnet, .serialized)
struct FacilitatorProcessIntegrationTests {
    typealias HTTP = FacilitatorServiceIntegrationTests

    struct Payment {
        let request: FacilitatorRequest
        let payer: DevnetAccount
        let payee: EthereumAddress
        let nonce: String
        let amount: UInt256
        /// The seller's settlement id for this payment (sent as `Idempotency-Key`).
        let settlementID = SettlementIdempotency.newID()
    }

    static func payment(devnet: Devnet, amount: UInt256 = 777) async throws -> Payment {
        let payer = try await devnet.freshAccount(eth: .zero, usdc: 1_000_000)
        let payee = devnet.randomAddress()
        let network = try #require(Network(devnet.network))
        let requirements = PaymentRequirements(
            scheme: "exact", network: network, amount: amount.decimalString, asset: devnet.token.checksummed, payTo: payee.checksummed,
            maxTimeoutSeconds: 300, extra: ["name": "USDC", "version": "2"])
        let signed = try await ExactEVMClient(signer: payer.key).createPayload(for: requirements, context: PaymentContext(version: .v2))
        let nonce = try #require(signed.payload["authorization"]?["nonce"]?.stringValue)
        let request = FacilitatorRequest(
            paymentPayload: .v2(PaymentPayload(accepted: requirements, payload: signed.payload)), paymentRequirements: .v2(requirements))
        return Payment(request: request, payer: payer, payee: payee, nonce: nonce, amount: amount)
    }

    /// Logs of the test token with these topics, over the whole chain.
    static func tokenLogs(devnet: Devnet, topics: [JSONValue]) async throws -> [JSONValue] {
        let filter: JSONValue = [
            "fromBlock": "0x0", "toBlock": "latest", "address": .string(devnet.token.checksummed), "topics": .array(topics),
        ]
        return try #require(try await devnet.client.request(method: "eth_getLogs", params: [filter]).arrayValue)
    }

    /// Waits until the start of a wall-clock second, then mines a block in it, so a transaction
    /// sent in the rest of that second stays unmined until the next one (one block per second).
    static func occupyCurrentSecond(devnet: Devnet) async throws {
        let fraction = Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 1)
        try await Task.sleep(for: .milliseconds(Int((1 - fraction) * 1000) + 5))
        _ = try await devnet.client.request(
            method: "devnet_setBalance", params: [EthereumJSON.address(devnet.randomAddress()), EthereumJSON.quantity(UInt256(1))])
    }

    @Test("SIGKILL after broadcast, before the receipt is recorded: a restart records it; one transfer; a repeat sends nothing")
    func killBetweenSubmitAndConfirmation() async throws {
        let devnet = try await Devnet.shared()
        let facilitator = try await devnet.freshAccount()
        let database = HTTP.temporaryDatabase()
        let store = try SQLiteSettlementStore(path: database)

        var won: (payment: Payment, transaction: String)?
        for attempt in 1...3 where won == nil {
            let payment = try await Self.payment(devnet: devnet)
            let id = SettlementJournal.id(of: payment.request, settlementID: payment.settlementID)
            let running = try await FacilitatorProcess(devnet: devnet, key: facilitator.key, database: database)
            let sentBefore = try await devnet.client.transactionCount(of: facilitator.address, at: .pending)
            try await Self.occupyCurrentSecond(devnet: devnet)
            let settle = Task { try? await HTTP.post(running.url + "/settle", payment.request.jsonBytes(), settlementID: payment.settlementID) }
            // Kill the moment the node holds the facilitator's transaction.
            try await devnet.waitUntil("the facilitator's transfer to reach the node", timeout: .seconds(30)) {
                try await devnet.client.transactionCount(of: facilitator.address, at: .pending) > sentBefore
            }
            await running.stop(signal: SIGKILL)
            _ = await settle.value
            let entry = try await store.entry(id: id)
            if entry?.status == .submitted, let transaction = entry?.transaction {
                #expect(try await store.schemeRecord(key: try #require(entry?.schemeKey))?.status == "pending")
                won = (payment, transaction)
            } else {
                print("attempt \(attempt): killed outside the submitted state (journal status \(String(describing: entry?.status))); again")
            }
        }
        let (payment, transaction) = try #require(won, "could not kill the facilitator between broadcast and confirmation in 3 attempts")
        // The transaction was in the node when the process died: it is mined without it.
        let receipt = try await devnet.waitForReceipt(try Bytes32(hex: transaction))
        #expect(receipt.succeeded)

        let restarted = try await FacilitatorProcess(devnet: devnet, key: facilitator.key, database: database)
        let id = SettlementJournal.id(of: payment.request, settlementID: payment.settlementID)
        var resumed: SettlementJournalEntry?
        try await devnet.waitUntil("the restarted facilitator to record the receipt", timeout: .seconds(30)) {
            resumed = try await store.entry(id: id)
            return resumed?.status == .confirmed
        }
        #expect(resumed?.transaction == transaction && resumed?.response?.transaction == transaction)

        let sent = try await devnet.client.transactionCount(of: facilitator.address, at: .pending)
        let (status, again) = try await HTTP.post(restarted.url + "/settle", payment.request.jsonBytes(), settlementID: payment.settlementID)
        #expect(status == 200 && again["success"] == true && again["transaction"] == .string(transaction), "\(again)")
        #expect(try await devnet.client.transactionCount(of: facilitator.address, at: .pending) == sent)
        #expect(await restarted.stop() == 0)

        // Exactly one AuthorizationUsed for this (payer, nonce), one Transfer out of the payer, the price moved once.
        let used = Keccak256.hash(utf8: "AuthorizationUsed(address,bytes32)")
        let payerTopic = JSONValue.string(payment.payer.address.word.hexString)
        let authorizations = try await Self.tokenLogs(devnet: devnet, topics: [.string(used.hexString), payerTopic, .string(payment.nonce)])
        #expect(authorizations.count == 1)
        #expect(authorizations.first?["transactionHash"]?.stringValue?.lowercased() == transaction.lowercased())
        let transfers = try await Self.tokenLogs(devnet: devnet, topics: [.string(EIP3009Calls.transferTopic.hexString), payerTopic])
        #expect(transfers.count == 1)
        #expect(try await devnet.usdcBalance(of: payment.payee) == payment.amount)
    }

    @Test("SIGTERM during a settlement: the answer is sent, recorded confirmed, then the process exits 0")
    func gracefulShutdownFinishesSettlement() async throws {
        let devnet = try await Devnet.shared()
        let facilitator = try await devnet.freshAccount()
        let database = HTTP.temporaryDatabase()
        let store = try SQLiteSettlementStore(path: database)
        let payment = try await Self.payment(devnet: devnet, amount: 555)
        let running = try await FacilitatorProcess(devnet: devnet, key: facilitator.key, database: database)
        let sentBefore = try await devnet.client.transactionCount(of: facilitator.address, at: .pending)
        try await Self.occupyCurrentSecond(devnet: devnet)
        let settle = Task { try await HTTP.post(running.url + "/settle", payment.request.jsonBytes(), settlementID: payment.settlementID) }
        try await devnet.waitUntil("the facilitator's transfer to reach the node", timeout: .seconds(30)) {
            try await devnet.client.transactionCount(of: facilitator.address, at: .pending) > sentBefore
        }
        let exit = await running.stop(signal: SIGTERM)
        let (status, settled) = try await settle.value
        #expect(status == 200 && settled["success"] == true, "\(settled) \(running.log())")
        #expect(exit == 0, "\(running.log())")
        let entry = try await store.entry(id: SettlementJournal.id(of: payment.request, settlementID: payment.settlementID))
        #expect(entry?.status == .confirmed && entry?.transaction == settled["transaction"]?.stringValue)
        #expect(try await devnet.usdcBalance(of: payment.payee) == 555)
    }
}
