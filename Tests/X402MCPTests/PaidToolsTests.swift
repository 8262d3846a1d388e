import Foundation
import MCP
import Testing
import X402
import X402EVM
import X402TestSupport

@testable import X402MCP

/// Counts settlement attempts from the facilitator's synchronous script.
final class SettleAttempts: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func next() -> Int {
        lock.withLock {
            count += 1
            return count
        }
    }
}

/// How often each tool ran.
actor ToolRuns {
    private(set) var counts: [String: Int] = [:]
    func ran(_ name: String) { counts[name, default: 0] += 1 }
    func count(_ name: String) -> Int { counts[name] ?? 0 }
}

/// A paid MCP server (`get_quote` at $0.001, `broken` at $0.001 which always fails, `echo` free)
/// and a connected MCP client over the SDK's in-memory transport.
struct MCPHarness {
    let facilitator: ScriptedFacilitator
    let runs = ToolRuns()
    let client: Client
    let server: Server
    let key: PrivateKey

    static let tools = [
        Tool(name: "get_quote", description: "A price quote", inputSchema: ["type": "object"]),
        Tool(name: "broken", description: "Always fails", inputSchema: ["type": "object"]),
        Tool(name: "echo", description: "Free", inputSchema: ["type": "object"]),
        Tool(name: "stall", description: "Takes a minute", inputSchema: ["type": "object"]),
    ]

    init(
        facilitator: ScriptedFacilitator = ScriptedFacilitator(), store: any PaymentStateStore = InMemoryPaymentStateStore(),
        toolTimeLimit: Duration? = .seconds(300)
    ) async throws {
        self.facilitator = facilitator
        key = try PrivateKey(hex: "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.register(USDCServer(), networks: .evm)
        let paid = try PaidTools(
            tools: [
                "get_quote": .exact("$0.001", on: .baseSepolia, payTo: .fixed(testPayTo)),
                "broken": .exact("$0.001", on: .baseSepolia, payTo: .fixed(testPayTo)),
                "stall": .exact("$0.001", on: .baseSepolia, payTo: .fixed(testPayTo)),
            ],
            facilitator: facilitator, schemes: schemes, store: store, toolTimeLimit: toolTimeLimit)
        server = Server(name: "quotes", version: "1.0", capabilities: .init(tools: .init()))
        let runs = self.runs
        await paid.register(on: server, tools: Self.tools) { parameters in
            await runs.ran(parameters.name)
            switch parameters.name {
            case "get_quote":
                let quote: Value = .object(["symbol": "ETH", "price": "3120.55"])
                return try CallTool.Result(content: [.text(text: "ETH = 3120.55 USD", annotations: nil, _meta: nil)], structuredContent: quote)
            case "slow", "stall":
                try await Task.sleep(for: .seconds(60))
                return CallTool.Result(content: [.text(text: "late", annotations: nil, _meta: nil)])
            case "broken":
                return CallTool.Result(content: [.text(text: "upstream down", annotations: nil, _meta: nil)], isError: true)
            default:
                return CallTool.Result(content: [.text(text: "echo", annotations: nil, _meta: nil)])
            }
        }
        let (clientTransport, serverTransport) = await InMemoryTransport.createConnectedPair()
        try await server.start(transport: serverTransport)
        client = Client(name: "agent", version: "1.0")
        _ = try await client.connect(transport: clientTransport)
    }

    func call(_ name: String, meta: Metadata? = nil) async throws -> CallTool.Result {
        try await client.send(CallTool.request(CallTool.Parameters(name: name, arguments: ["symbol": "ETH"], meta: meta))).value
    }

    func payer(policy: SpendingPolicy = .unrestricted, ledger: any SpendLedger = InMemorySpendLedger()) -> Payer {
        var schemes = SchemeRegistry<any SchemeClient>()
        schemes.registerExactEVM(ExactEVMClient(signer: key))
        return Payer(schemes: schemes, wallet: key.address.checksummed, policy: policy, ledger: ledger)
    }

    func stop() async {
        await client.disconnect()
        await server.stop()
    }
}

extension CallTool.Result {
    /// The first content item's text, if it is text.
    var firstText: String? {
        guard case .text(let text, _, _)? = content.first else { return nil }
        return text
    }
}

@Suite("PaidTools: x402 over MCP, seller and paying client")
struct PaidToolsTests {
    @Test("an unpaid call gets the payment-required tool error in structuredContent and as text; the tool does not run")
    func unpaid() async throws {
        let h = try await MCPHarness()
        defer { Task { await h.stop() } }
        let result = try await h.call("get_quote")
        #expect(result.isError == true)
        let structured = try JSONValue(mcp: try #require(result.structuredContent))
        #expect(structured["x402Version"]?.intValue == 2)
        #expect(structured["error"] == "Payment required to access this tool")
        #expect(structured["resource"]?["url"] == "mcp://tool/get_quote")
        #expect(structured["resource"]?["description"] == "Tool: get_quote")
        #expect(structured["resource"]?["mimeType"] == "application/json")
        let offer = try #require(structured["accepts"]?.arrayValue?.first)
        #expect(offer["scheme"] == "exact")
        #expect(offer["network"] == "eip155:84532")
        #expect(offer["amount"] == "1000")
        #expect(offer["payTo"] == .string(testPayTo))
        let text = try #require(result.firstText, "no text content")
        #expect(try JSONValue(parsing: text) == structured)
        let required = try #require(MCPPayment.paymentRequired(in: result))
        #expect(required.version == .v2)
        #expect(await h.runs.count("get_quote") == 0)
        #expect(await h.facilitator.verifies == 0)
    }

    @Test("a free tool is not charged and its result is untouched")
    func free() async throws {
        let h = try await MCPHarness()
        defer { Task { await h.stop() } }
        let result = try await h.call("echo")
        #expect(result.isError != true)
        #expect(result._meta == nil)
        #expect(await h.runs.count("echo") == 1)
        #expect(await h.facilitator.verifies == 0)
    }

    @Test("a paid call runs the tool, settles once and returns the receipt in _meta with the tool's own result")
    func paid() async throws {
        let h = try await MCPHarness()
        defer { Task { await h.stop() } }
        let ledger = InMemorySpendLedger()
        let client = PayingToolClient(client: h.client, payer: h.payer(ledger: ledger), server: "quotes.test")
        let call = try await client.callTool("get_quote", arguments: ["symbol": "ETH"])
        #expect(call.result.isError != true)
        #expect(call.result.structuredContent?.objectValue?["price"] == "3120.55")
        guard case .settled(let receipt)? = call.payment?.outcome else {
            Issue.record("not settled: \(String(describing: call.payment?.outcome))")
            return
        }
        #expect(receipt.transaction == "0xfeed")
        #expect(MCPPayment.settlement(in: call.result)?.transaction == "0xfeed")
        #expect(await h.facilitator.settles == 1)
        #expect(await h.runs.count("get_quote") == 1)
        let history = await ledger.history(wallet: nil, limit: 10)
        #expect(history.map(\.status) == [.settled])
        #expect(history.first?.resource == "mcp://quotes.test/tools/get_quote")
        #expect(history.first?.amount == "1000")
    }

    @Test("a failing tool is never charged; the client keeps the signed payment counted as unconfirmed")
    func failingTool() async throws {
        let h = try await MCPHarness()
        defer { Task { await h.stop() } }
        let ledger = InMemorySpendLedger()
        let client = PayingToolClient(client: h.client, payer: h.payer(ledger: ledger), server: "quotes.test")
        let call = try await client.callTool("broken")
        #expect(call.result.isError == true)
        let text = try #require(call.result.firstText, "no text content")
        #expect(text == "upstream down")
        #expect(MCPPayment.paymentRequired(in: call.result) == nil)
        guard case .notSettled? = call.payment?.outcome else {
            Issue.record("expected notSettled, got \(String(describing: call.payment?.outcome))")
            return
        }
        #expect(await h.runs.count("broken") == 1)
        #expect(await h.facilitator.verifies == 1)
        #expect(await h.facilitator.settles == 0)
        #expect(await ledger.history(wallet: nil, limit: 10).map(\.status) == [.unconfirmed])
    }

    @Test("a payment presented again after its settlement is refused (payment_already_used); the tool runs once")
    func replay() async throws {
        let h = try await MCPHarness()
        defer { Task { await h.stop() } }
        let required = try #require(MCPPayment.paymentRequired(in: try await h.call("get_quote")))
        let prepared = try await h.payer().preparePayment(for: required, resource: "mcp://quotes.test/tools/get_quote")
        let meta = try MCPPayment.requestMeta(paying: prepared.payload)
        let first = try await h.call("get_quote", meta: meta)
        #expect(first.isError != true)
        #expect(MCPPayment.settlement(in: first)?.success == true)
        let again = try await h.call("get_quote", meta: meta)
        #expect(again.isError == true)
        #expect(MCPPayment.paymentRequired(in: again)?.error == "payment_already_used")
        #expect(MCPPayment.settlement(in: again) == nil)
        #expect(await h.runs.count("get_quote") == 1)
        #expect(await h.facilitator.settles == 1)
    }

    @Test("a payment for another tool's offer is refused as not matching; nothing runs")
    func mismatch() async throws {
        let h = try await MCPHarness()
        defer { Task { await h.stop() } }
        let required = try #require(MCPPayment.paymentRequired(in: try await h.call("get_quote")))
        guard case .v2(var other) = required else {
            Issue.record("not v2")
            return
        }
        other.accepts[0].amount = "1"
        let prepared = try await h.payer().preparePayment(for: .v2(other), resource: "mcp://quotes.test/tools/get_quote")
        let result = try await h.call("get_quote", meta: try MCPPayment.requestMeta(paying: prepared.payload))
        #expect(MCPPayment.paymentRequired(in: result)?.error == "No matching payment requirements found")
        #expect(await h.runs.count("get_quote") == 0)
        #expect(await h.facilitator.verifies == 0)
    }

    @Test("a failed verification answers the facilitator's reason; the tool does not run")
    func verificationFails() async throws {
        let facilitator = ScriptedFacilitator(verify: { _ in .success(.invalid("invalid_exact_evm_payload_signature")) })
        let h = try await MCPHarness(facilitator: facilitator)
        defer { Task { await h.stop() } }
        let client = PayingToolClient(client: h.client, payer: h.payer(), server: "quotes.test")
        let call = try await client.callTool("get_quote")
        #expect(MCPPayment.paymentRequired(in: call.result)?.error == "invalid_exact_evm_payload_signature")
        #expect(await h.runs.count("get_quote") == 0)
        #expect(await facilitator.settles == 0)
    }

    @Test("a failed settlement withholds the tool's output and carries a failure receipt")
    func settlementFails() async throws {
        let facilitator = ScriptedFacilitator(settle: { r in
            .success(.failure(.init(rawValue: "transaction_failed"), message: "reverted", network: r.paymentRequirements.networkIdentifier))
        })
        let h = try await MCPHarness(facilitator: facilitator)
        defer { Task { await h.stop() } }
        let ledger = InMemorySpendLedger()
        let client = PayingToolClient(client: h.client, payer: h.payer(ledger: ledger), server: "quotes.test")
        let call = try await client.callTool("get_quote")
        #expect(call.result.isError == true)
        #expect(MCPPayment.paymentRequired(in: call.result)?.error == "Payment settlement failed: transaction_failed")
        #expect(MCPPayment.settlement(in: call.result)?.success == false)
        #expect(call.result.structuredContent?.objectValue?["price"] == nil)
        #expect(await h.runs.count("get_quote") == 1)
        #expect(await ledger.history(wallet: nil, limit: 10).map(\.status) == [.unconfirmed])
    }

    @Test("an unreadable payment in _meta is answered with the payment-required error, never a trap")
    func unreadablePayment() async throws {
        let h = try await MCPHarness()
        defer { Task { await h.stop() } }
        let junk = Metadata(additionalFields: [
            MCPPayment.paymentMetaKey: ["x402Version": 2, "payload": "not an object", "accepted": ["scheme": 7]]
        ])
        let result = try await h.call("get_quote", meta: junk)
        let error = try #require(MCPPayment.paymentRequired(in: result)?.error)
        #expect(error.hasPrefix("unreadable payment"))
        let huge = Metadata(additionalFields: [
            MCPPayment.paymentMetaKey: ["x402Version": 2, "payload": ["signature": .string(String(repeating: "a", count: 40_000))]]
        ])
        #expect(MCPPayment.paymentRequired(in: try await h.call("get_quote", meta: huge))?.error?.contains("larger than") == true)
        #expect(await h.runs.count("get_quote") == 0)
        #expect(await h.facilitator.verifies == 0)
    }

    @Test("the client refuses a price above its per-payment cap without signing or calling again")
    func overCap() async throws {
        let h = try await MCPHarness()
        defer { Task { await h.stop() } }
        let ledger = InMemorySpendLedger()
        let client = PayingToolClient(
            client: h.client, payer: h.payer(policy: SpendingPolicy(perPaymentCap: try DollarAmount("0.0005")), ledger: ledger), server: "quotes.test"
        )
        await #expect(throws: PaymentRefusal.self) { try await client.callTool("get_quote") }
        #expect(await ledger.history(wallet: nil, limit: 10).isEmpty)
        #expect(await h.facilitator.verifies == 0)
    }

    @Test("above the approval threshold the call is queued awaiting approval (nothing signed); approve then confirm pays once")
    func approvalQueue() async throws {
        let h = try await MCPHarness()
        defer { Task { await h.stop() } }
        let ledger = InMemorySpendLedger()
        let payer = h.payer(policy: SpendingPolicy(approvalThreshold: try DollarAmount("0.0001")), ledger: ledger)
        let approvals = PurchaseApprovals(payer: payer, store: InMemoryPurchaseApprovalStore())
        let client = PayingToolClient(client: h.client, payer: payer, approvals: approvals, server: "quotes.test")
        let queued: PurchaseQueued
        do {
            _ = try await client.callTool("get_quote")
            Issue.record("paid without approval")
            return
        } catch let error as PurchaseQueued {
            queued = error
        }
        #expect(queued.purchase.status == .awaitingApproval)
        #expect(queued.purchase.url == "mcp://quotes.test/tools/get_quote")
        #expect(await ledger.history(wallet: nil, limit: 10).isEmpty)
        #expect(await h.facilitator.verifies == 0)
        let id = queued.purchase.fetchID
        await #expect(throws: PurchaseApprovalError.self) { try await client.confirm(id, tool: "get_quote") }
        try await approvals.approve(id)
        let (purchase, call) = try await client.confirm(id, tool: "get_quote", arguments: ["symbol": "ETH"])
        #expect(purchase.status == .paid)
        #expect(purchase.transaction == "0xfeed")
        // The confirmation named its payment before sending it (what `approvals recover` reads).
        let record = try #require(purchase.spendRecord)
        #expect(await ledger.history(wallet: nil, limit: 10).contains { $0.id == record && $0.status == .settled })
        #expect(call.result.structuredContent?.objectValue?["price"] == "3120.55")
        await #expect(throws: PurchaseApprovalError.self) { try await client.confirm(id, tool: "get_quote") }
        #expect(await h.facilitator.settles == 1)
        #expect(await h.runs.count("get_quote") == 1)
    }

    @Test("a probe within the policy is recorded pre_approved without signing; confirm pays it once")
    func probe() async throws {
        let h = try await MCPHarness()
        defer { Task { await h.stop() } }
        let payer = h.payer()
        let approvals = PurchaseApprovals(payer: payer, store: InMemoryPurchaseApprovalStore())
        let client = PayingToolClient(client: h.client, payer: payer, approvals: approvals, server: "quotes.test")
        do {
            _ = try await client.callTool("get_quote", probe: true)
            Issue.record("probe paid")
        } catch let queued as PurchaseQueued {
            #expect(queued.purchase.status == .preApproved)
            #expect(await h.facilitator.verifies == 0)
            let (purchase, _) = try await client.confirm(queued.purchase.fetchID, tool: "get_quote")
            #expect(purchase.status == .paid)
            await #expect(throws: (any Error).self) { try await client.confirm(queued.purchase.fetchID, tool: "echo") }
        }
        #expect(await h.facilitator.settles == 1)
    }

    @Test("a settlement reported pending is presented again with the same payment (no new signature) and settles once")
    func pendingSettlement() async throws {
        let attempts = SettleAttempts()
        let facilitator = ScriptedFacilitator(settle: { r in
            let network = r.paymentRequirements.networkIdentifier
            if attempts.next() == 1 { return .success(.failure(.settlementPending, message: "not mined yet", network: network)) }
            return .success(SettleResponse(success: true, transaction: "0xfeed", network: network, payer: testPayer))
        })
        let h = try await MCPHarness(facilitator: facilitator)
        defer { Task { await h.stop() } }
        let ledger = InMemorySpendLedger()
        var client = PayingToolClient(client: h.client, payer: h.payer(ledger: ledger), server: "quotes.test")
        client.pendingSettlementDelay = .milliseconds(10)
        let call = try await client.callTool("get_quote")
        guard case .settled(let receipt)? = call.payment?.outcome else {
            Issue.record("not settled: \(String(describing: call.payment?.outcome))")
            return
        }
        #expect(receipt.transaction == "0xfeed")
        #expect(await facilitator.settles == 2)
        #expect(await facilitator.verifies == 1)
        // The first run's output was withheld (the settlement was pending); the re-presented
        // payment is settled under the same id and the tool's output delivered once.
        #expect(await h.runs.count("get_quote") == 2)
        #expect(call.result.structuredContent?.objectValue?["price"] == "3120.55")
        let payloads = await facilitator.settleCalls.map { $0.paymentPayload }
        #expect(payloads.count == 2 && payloads[0] == payloads[1])
        #expect(await ledger.history(wallet: nil, limit: 10).map(\.status) == [.settled])
    }

    @Test("a call not answered within the client's limit is cancelled and reported as timed out")
    func timeout() async throws {
        let h = try await MCPHarness()
        defer { Task { await h.stop() } }
        var client = PayingToolClient(client: h.client, payer: h.payer(), server: "quotes.test")
        client.maxRequestTimeout = .milliseconds(200)
        await #expect(throws: MCPPaymentError.self) { try await client.callTool("slow") }
        // The connection is still usable (with a limit a loaded machine cannot miss).
        client.maxRequestTimeout = .seconds(60)
        #expect(try await client.callTool("echo").result.isError != true)
    }

    @Test("a paid tool still running at the seller's time limit is cancelled and not charged; its payment is released")
    func sellerTimeLimit() async throws {
        let h = try await MCPHarness(toolTimeLimit: .milliseconds(300))
        defer { Task { await h.stop() } }
        let ledger = InMemorySpendLedger()
        let client = PayingToolClient(client: h.client, payer: h.payer(ledger: ledger), server: "quotes.test")
        let call = try await client.callTool("stall")
        #expect(call.result.isError == true)
        let text = try #require(call.result.firstText, "no text content")
        #expect(text.contains("did not finish in time"))
        #expect(await h.runs.count("stall") == 1)
        #expect(await h.facilitator.verifies == 1)
        #expect(await h.facilitator.settles == 0)
        guard case .notSettled? = call.payment?.outcome else {
            Issue.record("expected notSettled, got \(String(describing: call.payment?.outcome))")
            return
        }
    }

    @Test("PaidTools.run: the handler's result or error within the limit; nil after it, without waiting for the handler")
    func runWithinLimit() async throws {
        let parameters = CallTool.Parameters(name: "t")
        let quick = try await PaidTools.run({ _ in CallTool.Result(content: []) }, parameters, within: .seconds(30))
        #expect(quick != nil)
        struct Boom: Error {}
        await #expect(throws: Boom.self) { _ = try await PaidTools.run({ _ in throw Boom() }, parameters, within: .seconds(30)) }
        // A handler that ignores cancellation does not hold the caller past the limit.
        let stubborn = try await PaidTools.run(
            { _ in
                for _ in 0..<200 { try? await Task.sleep(for: .milliseconds(50)) }
                return CallTool.Result(content: [])
            }, parameters, within: .milliseconds(100))
        #expect(stubborn == nil)
        #expect(try await PaidTools.run({ _ in CallTool.Result(content: []) }, parameters, within: nil) != nil)
    }

    @Test("tool names that are not MCP names cannot be priced")
    func toolNames() throws {
        #expect(PaidTools.isValidToolName("get_quote.v2-beta"))
        #expect(!PaidTools.isValidToolName(".."))
        #expect(!PaidTools.isValidToolName("a/b"))
        #expect(!PaidTools.isValidToolName(""))
        #expect(!PaidTools.isValidToolName(String(repeating: "a", count: 129)))
        #expect(throws: MCPPaymentError.self) {
            try PaidTools(
                tools: ["a b": .exact("$0.001", on: .baseSepolia, payTo: .fixed(testPayTo))], facilitator: ScriptedFacilitator(),
                schemes: SchemeRegistry<any SchemeServer>())
        }
    }
}
