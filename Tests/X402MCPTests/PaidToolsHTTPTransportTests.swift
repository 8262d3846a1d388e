import Foundation
import MCP
import Testing
import X402
import X402EVM
import X402MCP
import X402TestSupport

/// `PaidTools` behind the SDK's streamable HTTP server transport (stateless, JSON answers): the
/// wrapper does not depend on the transport, and the x402 members survive the HTTP round trip.
@Suite("PaidTools over the streamable HTTP server transport")
struct PaidToolsHTTPTransportTests {
    static func post(_ transport: StatelessHTTPServerTransport, id: Int, _ params: JSONValue) async throws -> JSONValue {
        let body: JSONValue = ["jsonrpc": "2.0", "id": .number(JSONNumber(id)), "method": "tools/call", "params": params]
        let response = await transport.handleRequest(
            HTTPRequest(
                method: "POST", headers: ["Accept": "application/json", "Content-Type": "application/json"],
                body: Data(body.serialized()), path: "/mcp"))
        guard case .data(let data, _) = response else {
            Issue.record("not a JSON answer: \(response)")
            throw CancellationError()
        }
        return try JSONValue(parsing: Array(data))
    }

    @Test("unpaid → payment-required tool error; paid → the tool's result with the receipt; the same payment again → refused")
    func overHTTP() async throws {
        let facilitator = ScriptedFacilitator()
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.register(USDCServer(), networks: .evm)
        let paid = try PaidTools(
            tools: ["get_quote": .exact("$0.001", on: .baseSepolia, payTo: .fixed(testPayTo))], facilitator: facilitator, schemes: schemes)
        let server = Server(name: "quotes", version: "1.0", capabilities: .init(tools: .init()))
        let runs = ToolRuns()
        await paid.register(on: server, tools: []) { parameters in
            await runs.ran(parameters.name)
            return CallTool.Result(content: [.text(text: "ETH = 3120.55 USD", annotations: nil, _meta: nil)])
        }
        let transport = StatelessHTTPServerTransport()
        try await server.start(transport: transport)
        defer { Task { await server.stop() } }

        let unpaid = try await Self.post(transport, id: 1, ["name": "get_quote", "arguments": ["symbol": "ETH"]])
        #expect(unpaid["result"]?["isError"] == true, "\(unpaid)")
        let required = try AnyPaymentRequired(json: try #require(unpaid["result"]?["structuredContent"]))
        #expect(required.error == "Payment required to access this tool")
        #expect(required.resource?.url == "mcp://tool/get_quote")
        #expect(await runs.count("get_quote") == 0)

        var clientSchemes = SchemeRegistry<any SchemeClient>()
        let key = PrivateKey.random()
        clientSchemes.registerExactEVM(ExactEVMClient(signer: key))
        let prepared = try await Payer(schemes: clientSchemes, wallet: key.address.checksummed).preparePayment(for: required)
        let params: JSONValue = [
            "name": "get_quote", "arguments": ["symbol": "ETH"], "_meta": .object([MCPPayment.paymentMetaKey: prepared.payload.json]),
        ]
        let paidAnswer = try await Self.post(transport, id: 2, params)
        #expect(paidAnswer["result"]?["isError"] != true, "\(paidAnswer)")
        let receipt = try SettleResponse(json: try #require(paidAnswer["result"]?["_meta"]?[MCPPayment.paymentResponseMetaKey]))
        #expect(receipt.success && receipt.transaction == "0xfeed")
        #expect(await runs.count("get_quote") == 1)

        let replay = try await Self.post(transport, id: 3, params)
        #expect(replay["result"]?["structuredContent"]?["error"] == "payment_already_used", "\(replay)")
        #expect(await runs.count("get_quote") == 1)
        #expect(await facilitator.settles == 1)
    }
}
