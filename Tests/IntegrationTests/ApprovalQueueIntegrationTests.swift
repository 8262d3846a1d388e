import Foundation
import Hummingbird
import Testing
import X402
import X402EVM
import X402HTTP
import X402Hummingbird
import X402SQLite
import X402TestSupport

/// The approval queue on the devnet, driven like an agent through the `x402` binary: it probes two
/// Swift sellers (Hummingbird `X402Middleware` + the Swift facilitator service), the expensive one is
/// `awaiting_approval`, the owner approves, `fetch confirm` pays once (the on-chain balances move by
/// exactly the price), the ledger agrees, and a second confirm pays nothing.
@Suite("approval queue on the devnet", .devnet)
struct ApprovalQueueIntegrationTests {
    static let cheap: UInt256 = 10_000  // $0.01
    static let dear: UInt256 = 500_000  // $0.50, above the default $0.10 approval threshold

    @Test("probe two sellers → awaiting_approval → approve → confirm pays once; balances and ledger agree; a second confirm pays nothing")
    func probeApproveConfirm() async throws {
        let devnet = try await Devnet.shared()
        let binary = try x402Executable()
        async let facilitatorAccount = devnet.freshAccount()
        async let payerAccount = devnet.freshAccount(eth: .zero, usdc: 1_000_000)
        let payer = try await payerAccount
        let facilitator = try await FacilitatorServiceIntegrationTests.start(
            devnet: devnet, facilitator: try await facilitatorAccount, database: BuyerIntegrationTests.temporaryPath("facilitator.sqlite"))
        defer { Task { await facilitator.stop() } }
        let network = try #require(Network(devnet.network))

        func seller(price: PriceSpec, payee: EthereumAddress, body: String) async throws -> RunningApp {
            var schemes = SchemeRegistry<any SchemeServer>()
            schemes.registerExactEVM()
            let router = Router()
            router.add(
                middleware: try X402Middleware(
                    configuration: .init(
                        routes: ["GET /data": .exact(price, on: network, payTo: .fixed(payee.checksummed))],
                        facilitator: HTTPFacilitatorClient(baseURL: facilitator.url), schemes: schemes)))
            router.get("data") { _, _ in body }
            return await RunningApp.start(router)
        }
        let cheapPayee = devnet.randomAddress()
        let dearPayee = devnet.randomAddress()
        let cheapSeller = try await seller(price: "$0.01", payee: cheapPayee, body: "cheap data")
        defer { cheapSeller.task.cancel() }
        let dearSeller = try await seller(price: "$0.50", payee: dearPayee, body: "dear data")
        defer { dearSeller.task.cancel() }

        let home = FileManager.default.temporaryDirectory.appendingPathComponent("x402-approvals-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let keyFile = home.appendingPathComponent("key").path
        _ = FileManager.default.createFile(
            atPath: keyFile, contents: Data(payer.key.withUnsafeSecretBytes { Hex.encode($0) }.utf8), attributes: [.posixPermissions: 0o600])
        let environment = ["X402_HOME": home.path]
        func run(_ arguments: [String]) async throws -> (status: Int32, json: JSONValue, stderr: String) {
            let output = try await BuyerIntegrationTests.runCLI(binary, arguments, environment)
            let json = (try? JSONValue(parsing: Array(output.stdout.utf8))) ?? .null
            return (output.status, json, output.stderr)
        }
        let before = (
            payer: try await devnet.usdcBalance(of: payer.address), cheap: try await devnet.usdcBalance(of: cheapPayee),
            dear: try await devnet.usdcBalance(of: dearPayee)
        )

        // The agent probes both: nothing is signed.
        let probeCheap = try await run(["fetch", "\(cheapSeller.url)/data", "--probe", "--json", "--key-file", keyFile])
        #expect(probeCheap.status == 0, "\(probeCheap)")
        #expect(probeCheap.json["status"] == "pre_approved")
        let probeDear = try await run(["fetch", "\(dearSeller.url)/data", "--probe", "--json", "--key-file", keyFile])
        #expect(probeDear.status == 8, "\(probeDear)")
        #expect(probeDear.json["status"] == "awaiting_approval")
        #expect(probeDear.json["total_usdc"] == "0.5")
        #expect(probeDear.json["recipient"] == .string(dearPayee.checksummed))
        let id = try #require(probeDear.json["fetch_id"]?.stringValue)
        #expect(try await devnet.usdcBalance(of: payer.address) == before.payer)

        // The owner approves; the agent confirms once.
        let approve = try await run(["approvals", "approve", id, "--json"])
        #expect(approve.status == 0, "\(approve)")
        let confirm = try await run(["fetch", "confirm", id, "--json", "--key-file", keyFile])
        #expect(confirm.status == 0, "\(confirm)")
        #expect(confirm.json["body"] == "dear data")
        #expect(confirm.json["purchase"]?["status"] == "paid")
        let transaction = try #require(confirm.json["settlement"]?["transaction"]?.stringValue)
        #expect(confirm.json["purchase"]?["transaction"] == .string(transaction))

        let receipt = try await devnet.waitForReceipt(try Bytes32(hex: transaction))
        #expect(receipt.succeeded)
        #expect(EIP3009Calls.containsTransfer(receipt.logs, token: devnet.token, from: payer.address, to: dearPayee, value: Self.dear))
        #expect(try await devnet.usdcBalance(of: payer.address) == before.payer - Self.dear)
        #expect(try await devnet.usdcBalance(of: dearPayee) == before.dear + Self.dear)
        #expect(try await devnet.usdcBalance(of: cheapPayee) == before.cheap)

        // A second confirm pays nothing.
        let again = try await run(["fetch", "confirm", id, "--json", "--key-file", keyFile])
        #expect(again.status == 9, "\(again)")
        #expect(try await devnet.usdcBalance(of: payer.address) == before.payer - Self.dear)

        // The ledger agrees: one settled payment of the price to the dear seller, with the transaction.
        let ledgerPath = home.appendingPathComponent("ledger.sqlite").path
        let records = try await SQLiteSpendLedger(path: ledgerPath).history(wallet: payer.address.checksummed, limit: 10)
        #expect(records.count == 1)
        let record = try #require(records.first)
        #expect(record.status == .settled)
        #expect(record.amount == Self.dear.decimalString)
        #expect(record.payTo.lowercased() == dearPayee.lowercased)
        #expect(record.transaction == transaction)
        let queue = try SQLitePurchaseApprovalStore(path: ledgerPath)
        #expect(try await queue.purchase(id)?.status == .paid)
        #expect(try await queue.events(fetchID: id, limit: 10).map(\.to) == [.paid, .paying, .approved, .awaitingApproval])
        #expect(try await queue.purchase(try #require(probeCheap.json["fetch_id"]?.stringValue))?.status == .preApproved)
    }
}
