import Foundation
import Testing
import X402
import X402EVM
import X402SQLite

/// A clock the test moves (the chain's clock is never touched: the devnet is shared).
final class BuyerTestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var offset: TimeInterval = 0
    func advance(_ seconds: TimeInterval) { lock.withLock { offset += seconds } }
    var now: Date { Date().addingTimeInterval(lock.withLock { offset }) }
}

/// The buyer's spend reconciliation reading the real `authorizationState` of the devnet's USDC:
/// of two payments a server "rejected" after receiving them, the one a relayer later settled on
/// chain stays counted (as settled) and the one never used is released once it has expired.
@Suite("buyer reconciliation on the devnet", .devnet)
struct BuyerReconcileIntegrationTests {
    @Test("expired + unused on chain releases the budget; used on chain counts as settled; nothing before expiry")
    func reconcilesAgainstAuthorizationState() async throws {
        let devnet = try await Devnet.shared()
        async let relayerAccount = devnet.freshAccount()
        async let buyerAccount = devnet.freshAccount(eth: .zero, usdc: 1_000_000)
        let relayer = try await relayerAccount
        let buyer = try await buyerAccount
        let payee = devnet.randomAddress()

        let clock = BuyerTestClock()
        let ledger = try SQLiteSpendLedger()
        var schemes = SchemeRegistry<any SchemeClient>()
        // The server asks for a day; the client signs 10 minutes at most.
        schemes.registerExactEVM(ExactEVMClient(signer: buyer.key, maxValiditySeconds: 600))
        let payer = Payer(
            schemes: schemes, wallet: buyer.address.checksummed, policy: SpendingPolicy(budget: SpendBudget(limit: try DollarAmount("0.02"))),
            ledger: ledger, clock: { clock.now })
        let network = try #require(Network(devnet.network))
        let required = AnyPaymentRequired.v2(
            PaymentRequired(
                resource: ResourceInfo(url: "http://hostile.example/r"),
                accepts: [
                    PaymentRequirements(
                        scheme: "exact", network: network, amount: "10000", asset: devnet.token.checksummed, payTo: payee.checksummed,
                        maxTimeoutSeconds: 86_400, extra: ["name": "USDC", "version": "2"])
                ]))

        // Two payments the (hostile) server answered with a 402: both keep counting.
        let settledLater = try await payer.preparePayment(for: required)
        try await payer.recordUnconfirmed(of: settledLater, reason: "payment rejected")
        let neverUsed = try await payer.preparePayment(for: required)
        try await payer.recordUnconfirmed(of: neverUsed, reason: "payment rejected")
        await #expect(throws: PaymentRefusal.self) { try await payer.preparePayment(for: required) }

        // The capped window: validBefore ≤ now + 600 although the server asked for a day.
        let records = try await ledger.history(wallet: buyer.address.checksummed, limit: 10)
        #expect(records.count == 2)  // the third was refused by the budget before anything was reserved or signed
        for record in records {
            #expect(record.status == .unconfirmed)
            let before = try #require(record.authorization?.validBefore)
            #expect(before.timeIntervalSince(Date()) <= 601)
        }

        // The server settles the first signature behind the buyer's back.
        guard case .v2(let payload) = settledLater.payload else {
            Issue.record("not v2")
            return
        }
        let parsed = try ExactEVMPayload(json: payload.payload)
        let receipt = try await devnet.transact(
            from: relayer, to: devnet.token, data: EIP3009Calls.transfer(parsed.authorization, signature: parsed.signature))
        #expect(receipt.succeeded)
        #expect(try await devnet.usdcBalance(of: payee) == 10_000)

        let reader = EVMAuthorizationStateReader(clients: [devnet.network: devnet.client])
        // Not expired yet: nothing is read or released.
        let early = try await payer.reconcile(using: reader)
        #expect(early == ReconciliationSummary())
        #expect(try await payer.spentInWindow() == (try DollarAmount("0.02")))

        // Past validBefore + grace (the buyer's clock; the chain's own clock is not moved).
        clock.advance(600 + 180)
        let summary = try await payer.reconcile(using: reader)
        #expect(summary.usedOnChain == [settledLater.recordID])
        #expect(summary.released == [neverUsed.recordID])
        #expect(summary.unreadable.isEmpty, "\(summary.firstError ?? "")")
        #expect(try await payer.spentInWindow() == (try DollarAmount("0.01")))
        let after = try await ledger.history(wallet: buyer.address.checksummed, limit: 10)
        #expect(after.first { $0.id == settledLater.recordID }?.status == .settled)
        #expect(after.first { $0.id == neverUsed.recordID }?.status == .failed)

        // A node for another chain is not trusted: the record is left alone.
        let wrong = EVMAuthorizationStateReader(clients: ["eip155:8453": devnet.client])
        let misrouted = SignedAuthorization(authorizer: buyer.address.checksummed, nonce: Hex.encode(Bytes32.random().bytes), validBefore: Date())
        await #expect(throws: AuthorizationStateReadError.wrongChain(expected: 8453, served: devnet.chainID)) {
            _ = try await wrong.authorizationUse(network: "eip155:8453", asset: devnet.token.checksummed, authorization: misrouted)
        }
    }

    @Test("the CLI reconciles its ledger on history and limits through $X402_RPC_URL: unused released, used settled")
    func cliReconcilesThroughRPC() async throws {
        let devnet = try await Devnet.shared()
        let binary = try x402Executable()
        async let relayerAccount = devnet.freshAccount()
        async let buyerAccount = devnet.freshAccount(eth: .zero, usdc: 1_000_000)
        let relayer = try await relayerAccount
        let buyer = try await buyerAccount
        let payee = devnet.randomAddress()

        let home = FileManager.default.temporaryDirectory.appendingPathComponent("x402-reconcile-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let keyFile = home.appendingPathComponent("key").path
        _ = FileManager.default.createFile(
            atPath: keyFile, contents: Data(buyer.key.withUnsafeSecretBytes { Hex.encode($0) }.utf8), attributes: [.posixPermissions: 0o600])

        // A real authorization the "server" settled on chain, and one it never used; both were
        // answered with a 402 and both expired (as written in the ledger) a while ago.
        let client = ExactEVMClient(signer: buyer.key)
        let requirements = PaymentRequirements(
            scheme: "exact", network: try #require(Network(devnet.network)), amount: "10000", asset: devnet.token.checksummed,
            payTo: payee.checksummed, maxTimeoutSeconds: 300, extra: ["name": "USDC", "version": "2"])
        let used = try await client.signedPayload(for: requirements)
        let receipt = try await devnet.transact(
            from: relayer, to: devnet.token, data: EIP3009Calls.transfer(used.authorization, signature: used.signature))
        #expect(receipt.succeeded)
        let unused = try await client.signedPayload(for: requirements)

        let ledger = try SQLiteSpendLedger(path: home.appendingPathComponent("ledger.sqlite").path)
        let expired = Date().addingTimeInterval(-600)
        var ids: [UUID] = []
        for payload in [used, unused] {
            let record = SpendRecord(
                wallet: buyer.address.checksummed, createdAt: Date().addingTimeInterval(-900), resource: "http://hostile.example/r", version: .v2,
                scheme: "exact", network: devnet.network, asset: devnet.token.checksummed, payTo: payee.checksummed, amount: "10000",
                value: try DollarAmount("0.01"))
            try await ledger.reserve(record, budget: nil, now: record.createdAt)
            try await ledger.recordAuthorization(
                record.id,
                SignedAuthorization(authorizer: buyer.address.checksummed, nonce: Hex.encode(payload.authorization.nonce.bytes), validBefore: expired)
            )
            try await ledger.markUnconfirmed(record.id, reason: "payment rejected", transaction: nil, at: record.createdAt)
            ids.append(record.id)
        }
        let environment = ["X402_HOME": home.path, "X402_RPC_URL": devnet.url]

        // An unreachable node: the payments keep counting.
        let unreachable = try await BuyerIntegrationTests.runCLI(
            binary, ["limits", "show", "--key-file", keyFile, "--json"], ["X402_HOME": home.path, "X402_RPC_URL": "http://127.0.0.1:1"])
        #expect(try JSONValue(parsing: Array(unreachable.stdout.utf8))["spent24h"] == "0.02", "\(unreachable.stdout) \(unreachable.stderr)")

        let history = try await BuyerIntegrationTests.runCLI(binary, ["history", "--key-file", keyFile, "--json"], environment)
        #expect(history.status == 0, "\(history.stderr)")
        let payments = try #require(try JSONValue(parsing: Array(history.stdout.utf8))["payments"]?.arrayValue)
        let byID = Dictionary(uniqueKeysWithValues: payments.compactMap { p in p["id"]?.stringValue.map { ($0, p) } })
        #expect(byID[ids[0].uuidString]?["status"] == "settled")
        #expect(byID[ids[1].uuidString]?["status"] == "failed")
        #expect(byID[ids[1].uuidString]?["failureReason"] == "payment rejected; authorization expired unused on chain")
        let show = try await BuyerIntegrationTests.runCLI(binary, ["limits", "show", "--key-file", keyFile, "--json"], environment)
        #expect(try JSONValue(parsing: Array(show.stdout.utf8))["spent24h"] == "0.01", "\(show.stdout) \(show.stderr)")
    }
}
