import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing
import X402
import X402EVM
import X402HTTP
import X402Hummingbird
import X402SQLite
import X402TestSupport

/// The buyer on the devnet: the Swift client pays a Swift seller (Hummingbird `X402Middleware` +
/// the Swift facilitator service) and the official Python SDK's seller (`py_server.py`, x402
/// 2.25.0); after each payment the payer's and payee's USDC balances moved by exactly the price,
/// and the SQLite ledger's record (amount, recipient, transaction) agrees with the chain and the
/// decoded `PAYMENT-RESPONSE`.
@Suite("buyer on the devnet", .devnet)
struct BuyerIntegrationTests {
    static let price: UInt256 = 10_000  // $0.01 in USDC atomic units

    /// Checks the ledger record against the settlement receipt and the chain.
    static func checkAgreement(
        devnet: Devnet, record: SpendRecord?, settlement: SettleResponse?, payer: EthereumAddress, payee: EthereumAddress,
        before: (payer: UInt256, payee: UInt256)
    ) async throws {
        let record = try #require(record)
        let settlement = try #require(settlement)
        #expect(settlement.success)
        #expect(record.status == .settled)
        #expect(record.amount == price.decimalString)
        #expect(record.value == (try DollarAmount("0.01")))
        #expect(record.payTo.lowercased() == payee.lowercased)
        #expect(record.asset.lowercased() == devnet.token.lowercased)
        #expect(record.network == devnet.network)
        #expect(record.transaction == settlement.transaction)
        #expect(record.payer?.lowercased() == payer.lowercased)
        #expect(settlement.payer?.lowercased() == payer.lowercased)

        // The transaction exists, succeeded and moved exactly the price from payer to payee.
        let hash = try Bytes32(hex: settlement.transaction)
        let receipt = try await devnet.waitForReceipt(hash)
        #expect(receipt.succeeded)
        #expect(EIP3009Calls.containsTransfer(receipt.logs, token: devnet.token, from: payer, to: payee, value: price))
        #expect(try await devnet.usdcBalance(of: payer) == before.payer - price)
        #expect(try await devnet.usdcBalance(of: payee) == before.payee + price)
    }

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("x402-buyer-it-\(UUID().uuidString)-\(name)").path
    }

    @Test("PayingHTTPClient pays a Swift seller (X402Middleware + Swift facilitator service): balances and ledger agree")
    func paysSwiftSeller() async throws {
        let devnet = try await Devnet.shared()
        async let facilitatorAccount = devnet.freshAccount()
        async let payerAccount = devnet.freshAccount(eth: .zero, usdc: 1_000_000)
        let payer = try await payerAccount
        let facilitator = try await FacilitatorServiceIntegrationTests.start(
            devnet: devnet, facilitator: try await facilitatorAccount, database: Self.temporaryPath("facilitator.sqlite"))
        defer { Task { await facilitator.stop() } }
        let payee = devnet.randomAddress()

        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.registerExactEVM()
        let router = Router()
        router.add(
            middleware: try X402Middleware(
                configuration: .init(
                    routes: ["GET /report": .exact("$0.01", on: try #require(Network(devnet.network)), payTo: .fixed(payee.checksummed))],
                    facilitator: HTTPFacilitatorClient(baseURL: facilitator.url), schemes: schemes)))
        router.get("report") { _, _ in "the paid report" }
        let app = await RunningApp.start(router)
        defer { app.task.cancel() }

        let ledgerPath = Self.temporaryPath("ledger.sqlite")
        let ledger = try SQLiteSpendLedger(path: ledgerPath)
        var clientSchemes = SchemeRegistry<any SchemeClient>()
        clientSchemes.registerExactEVM(signer: payer.key)
        let client = PayingHTTPClient(
            payer: Payer(
                schemes: clientSchemes, wallet: payer.address.checksummed,
                policy: SpendingPolicy(perPaymentCap: try DollarAmount("0.05"), budget: SpendBudget(limit: try DollarAmount("1"))),
                ledger: ledger))

        let before = (payer: try await devnet.usdcBalance(of: payer.address), payee: try await devnet.usdcBalance(of: payee))
        let started = ContinuousClock.now
        let response = try await client.execute(HTTPClientRequest(url: "\(app.url)/report"))
        let elapsed = ContinuousClock.now - started
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "the paid report")
        guard case .paid(let paid) = response.payment else {
            Issue.record("not paid: \(response.payment)")
            return
        }
        let decoded = try SettleResponse.fromResponseHeaders { name in HTTPField.Name(name).flatMap { response.headers.firstValue(for: $0) } }
        #expect(decoded == paid.settlement)
        let record = try await ledger.history(wallet: payer.address.checksummed, limit: 10)
        #expect(record.count == 1)
        try await Self.checkAgreement(
            devnet: devnet, record: record.first, settlement: decoded, payer: payer.address, payee: payee, before: before)
        #expect(try await ledger.receipt(for: paid.recordID) == decoded)
        print("buyer → Swift seller on the devnet: paid round trip \(elapsed)")
    }

    @Test("the x402 CLI binary pays the official Python SDK's seller: balances and ledger agree; wallet balance reads the chain")
    func cliPaysPythonSeller() async throws {
        let devnet = try await Devnet.shared()
        let binary = try x402Executable()
        async let facilitatorAccount = devnet.freshAccount()
        async let payerAccount = devnet.freshAccount(eth: .zero, usdc: 1_000_000)
        let payer = try await payerAccount
        let facilitator = try await FacilitatorServiceIntegrationTests.start(
            devnet: devnet, facilitator: try await facilitatorAccount, database: Self.temporaryPath("facilitator.sqlite"))
        defer { Task { await facilitator.stop() } }
        let payee = devnet.randomAddress()

        // The SDK's seller, read and stopped by the shared harness (its own reader thread; SIGKILL
        // if SIGTERM does not end it).
        let seller = try await PythonService.start(
            "py_server.py",
            ["--port", "0", "--facilitator-url", facilitator.url, "--pay-to", payee.checksummed, "--price", "$0.01", "--network", devnet.network])
        do {
            try await payPythonSeller(seller, devnet: devnet, binary: binary, payer: payer, payee: payee)
        } catch {
            await seller.stop()
            throw error
        }
        await seller.stop()
    }

    private func payPythonSeller(
        _ seller: PythonService, devnet: Devnet, binary: URL, payer: DevnetAccount, payee: EthereumAddress
    ) async throws {
        let paidURL = try #require(seller.ready["paidUrl"]?.stringValue)

        let home = FileManager.default.temporaryDirectory.appendingPathComponent("x402-buyer-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let keyFile = home.appendingPathComponent("key").path
        _ = FileManager.default.createFile(
            atPath: keyFile, contents: Data(payer.key.withUnsafeSecretBytes { Hex.encode($0) }.utf8), attributes: [.posixPermissions: 0o600])
        let environment = ["X402_HOME": home.path]

        let before = (payer: try await devnet.usdcBalance(of: payer.address), payee: try await devnet.usdcBalance(of: payee))
        let balance = try await Self.runCLI(
            binary, ["wallet", "balance", "--key-file", keyFile, "--network", devnet.network, "--rpc-url", devnet.url, "--json"], environment)
        #expect(balance.status == 0, "\(balance.stderr)")
        let balanceJSON = try JSONValue(parsing: Array(balance.stdout.utf8))
        #expect(balanceJSON["token"]?["amount"] == .string(before.payer.decimalString))
        #expect(balanceJSON["token"]?["amountDecimal"] == "1")

        let fetch = try await Self.runCLI(binary, ["fetch", paidURL, "--key-file", keyFile, "--json"], environment)
        #expect(fetch.status == 0, "\(fetch.stdout) \(fetch.stderr)")
        let o = try JSONValue(parsing: Array(fetch.stdout.utf8))
        #expect(o["status"] == "paid")
        #expect(o["payment"]?["amount"] == .string(Self.price.decimalString))
        let transaction = try #require(o["settlement"]?["transaction"]?.stringValue)
        let settlement = SettleResponse(
            success: o["settlement"]?["success"] == true, transaction: transaction, network: o["settlement"]?["network"]?.stringValue ?? "",
            payer: o["settlement"]?["payer"]?.stringValue)

        let ledger = try SQLiteSpendLedger(path: home.appendingPathComponent("ledger.sqlite").path)
        let records = try await ledger.history(wallet: payer.address.checksummed, limit: 10)
        #expect(records.count == 1)
        try await Self.checkAgreement(
            devnet: devnet, record: records.first, settlement: settlement, payer: payer.address, payee: payee, before: before)
        // The receipt stored in the ledger is the decoded PAYMENT-RESPONSE the CLI reported.
        let recordID = try #require(records.first).id
        let stored = try #require(try await ledger.receipt(for: recordID))
        #expect(stored.transaction == transaction)

        let after = try await Self.runCLI(
            binary, ["wallet", "balance", "--key-file", keyFile, "--network", devnet.network, "--rpc-url", devnet.url], environment)
        #expect(after.stdout.contains("USDC: 0.99 (990000 atomic units)"), "\(after.stdout)")
        let history = try await Self.runCLI(binary, ["history", "--key-file", keyFile], environment)
        #expect(history.stdout.contains("transaction  \(transaction)"), "\(history.stdout)")
    }

    // MARK: Helpers

    static func runCLI(
        _ binary: URL, _ arguments: [String], _ environment: [String: String]
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let output = try await runProcess(binary, arguments, environment: environment)
        return (output.status, output.stdout, output.stderr)
    }
}
