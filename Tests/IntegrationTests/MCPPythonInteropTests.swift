import Foundation
import Hummingbird
import MCP
import SystemPackage
import Testing
import X402
import X402EVM
import X402HTTP
import X402Hummingbird
import X402MCP
import X402TestSupport

/// Counts the settlements asked of the real facilitator client it wraps.
actor SettleCountingFacilitator: FacilitatorClient {
    let base: any FacilitatorClient
    private(set) var settles = 0

    init(_ base: any FacilitatorClient) { self.base = base }

    func verify(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> VerifyResponse { try await base.verify(request) }

    func settle(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> SettleResponse {
        settles += 1
        return try await base.settle(request)
    }

    func supported() async throws(FacilitatorClientError) -> SupportedResponse { try await base.supported() }
}

/// x402 over MCP against the official Python SDK (x402 2.25.0 `x402.mcp` and the `mcp` package,
/// `Tools/interop/py_mcp.py`) on the devnet, settlement checked on chain: its paying MCP client
/// pays a Swift tool server (`PaidTools`), a Swift `PayingToolClient` pays its tool server, a
/// failing tool is charged by neither, and its MCP client drives `x402 mcp` through fetch →
/// awaiting_approval → the owner's approval → confirm → paid once.
@Suite("x402 over MCP with the official Python SDK", .devnet, .serialized)
struct MCPPythonInteropTests {
    typealias World = HummingbirdSellerIntegrationTests.World
    static let price: UInt256 = 10_000  // $0.01

    /// A child process whose stdin/stdout are an MCP stdio connection to this test.
    struct Peer {
        let process: Process
        let transport: StdioTransport
        let logPath: String

        static func start(_ executable: URL, _ arguments: [String], environment: [String: String]) throws -> Peer {
            let logPath = FileManager.default.temporaryDirectory.appendingPathComponent("x402-mcp-peer-\(UUID().uuidString).log").path
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let toPeer = Pipe()
            let fromPeer = Pipe()
            process.standardInput = toPeer
            process.standardOutput = fromPeer
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            try process.run()
            let transport = StdioTransport(
                input: FileDescriptor(rawValue: fromPeer.fileHandleForReading.fileDescriptor),
                output: FileDescriptor(rawValue: toPeer.fileHandleForWriting.fileDescriptor))
            return Peer(process: process, transport: transport, logPath: logPath)
        }

        /// Waits (at most two minutes) for the process to exit.
        func waitForExit() async -> Int32? {
            for _ in 0..<1200 where process.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
            return process.isRunning ? nil : process.terminationStatus
        }

        func stop() async {
            if process.isRunning {
                process.terminate()
                for _ in 0..<20 where process.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }
            try? FileManager.default.removeItem(atPath: logPath)
        }

        var logTail: String { String(((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").suffix(3000)) }
    }

    static let tools = [
        Tool(name: "get_quote", description: "A price quote (paid)", inputSchema: ["type": "object"]),
        Tool(name: "broken", description: "Always fails (paid)", inputSchema: ["type": "object"]),
    ]

    static func readJSON(_ path: String) throws -> JSONValue {
        try JSONValue(parsing: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    @Test("the Python SDK's MCP client pays a Swift MCP tool server once; a failing tool is not charged (balances on chain)")
    func pythonClientPaysSwiftServer() async throws {
        let w = try await World.make()
        defer { Task { await w.facilitator.stop() } }
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.registerExactEVM()
        let facilitator = SettleCountingFacilitator(HTTPFacilitatorClient(baseURL: w.facilitator.url))
        let paid = try PaidTools(
            tools: [
                "get_quote": .exact("$0.01", on: w.network, payTo: .fixed(w.payee.checksummed)),
                "broken": .exact("$0.01", on: w.network, payTo: .fixed(w.payee.checksummed)),
            ],
            facilitator: facilitator, schemes: schemes)
        let hits = HitCounter()
        let server = Server(name: "swift-quotes", version: "1.0", capabilities: .init(tools: .init()))
        await paid.register(on: server, tools: Self.tools) { parameters in
            if parameters.name == "broken" {
                return CallTool.Result(content: [.text(text: "upstream down", annotations: nil, _meta: nil)], isError: true)
            }
            await hits.hit()
            let quote: Value = .object(["symbol": parameters.arguments?["symbol"] ?? "?", "price": "3120.55"])
            return try CallTool.Result(content: [.text(text: "ETH = 3120.55 USD", annotations: nil, _meta: nil)], structuredContent: quote)
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("x402-mcp-client-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let payerBefore = try await w.devnet.usdcBalance(of: w.payer.address)
        let peer = try Peer.start(
            repositoryRoot.appendingPathComponent("Tools/interop/run.sh"),
            ["py_mcp.py", "client", "--key-env", "X402_MCP_PAYER_KEY", "--out", out, "--call", "get_quote", "--call", "broken"],
            environment: ["X402_MCP_PAYER_KEY": w.payer.key.withUnsafeSecretBytes { Hex.encode($0) }])
        try await server.start(transport: peer.transport)
        let status = await peer.waitForExit()
        await server.stop()
        let log = peer.logTail
        await peer.stop()
        #expect(status == 0, "\(log)")
        let result = try Self.readJSON(out)
        #expect(result["error"] == nil, "\(result) \(log)")
        let calls = try #require(result["calls"]?.arrayValue, "\(result)")
        #expect(calls.count == 2)

        // get_quote: paid once, the receipt in _meta, the tool's own result kept.
        let quote = calls[0]
        #expect(quote["paymentMade"] == true && quote["isError"] == false, "\(quote)")
        #expect(quote["paymentResponse"]?["success"] == true)
        #expect(quote["structuredContent"]?["price"] == "3120.55")
        try await w.expectMined(quote["paymentResponse"]?["transaction"]?.stringValue)

        // broken: the SDK paid (sent a signature), the Swift server ran the tool, saw it fail and did not settle.
        let broken = calls[1]
        #expect(broken["isError"] == true && broken["text"] == "upstream down", "\(broken)")
        #expect(broken["paymentResponse"] == .null)
        #expect(await hits.count == 1)
        #expect(await facilitator.settles == 1)
        #expect(try await w.devnet.usdcBalance(of: w.payee) == Self.price)
        #expect(try await w.devnet.usdcBalance(of: w.payer.address) == payerBefore - Self.price)
    }

    @Test("a Swift MCP client pays the Python SDK's MCP tool server once; its failing tool is not charged (balances on chain)")
    func swiftClientPaysPythonServer() async throws {
        let w = try await World.make()
        defer { Task { await w.facilitator.stop() } }
        let peer = try Peer.start(
            repositoryRoot.appendingPathComponent("Tools/interop/run.sh"),
            [
                "py_mcp.py", "server", "--facilitator-url", w.facilitator.url, "--pay-to", w.payee.checksummed, "--network", w.network.identifier,
                "--price", "$0.01",
            ],
            environment: [:])
        let client = Client(name: "swift-agent", version: "1.0")
        do {
            _ = try await client.connect(transport: peer.transport)
            var schemes = SchemeRegistry<any SchemeClient>()
            schemes.registerExactEVM(ExactEVMClient(signer: w.payer.key))
            let ledger = InMemorySpendLedger()
            let paying = PayingToolClient(
                client: client, payer: Payer(schemes: schemes, wallet: w.payer.address.checksummed, ledger: ledger), server: "py-tools")
            let payerBefore = try await w.devnet.usdcBalance(of: w.payer.address)

            let quote = try await paying.callTool("get_quote", arguments: ["symbol": "ETH"])
            #expect(quote.result.isError != true, "\(quote.result) \(peer.logTail)")
            guard case .settled(let receipt)? = quote.payment?.outcome else {
                Issue.record("not settled: \(String(describing: quote.payment?.outcome)) \(quote.result) \(peer.logTail)")
                throw CancellationError()
            }
            try await w.expectMined(receipt.transaction)
            guard case .text(let text, _, _)? = quote.result.content.first else { throw CancellationError() }
            #expect(try JSONValue(parsing: text)["price"] == "3120.55")

            let broken = try await paying.callTool("broken", arguments: ["symbol": "ETH"])
            #expect(broken.result.isError == true)
            guard case .notSettled? = broken.payment?.outcome else {
                Issue.record("expected notSettled: \(String(describing: broken.payment?.outcome))")
                throw CancellationError()
            }
            #expect(try await w.devnet.usdcBalance(of: w.payee) == Self.price)
            #expect(try await w.devnet.usdcBalance(of: w.payer.address) == payerBefore - Self.price)
            #expect(await ledger.history(wallet: nil, limit: 10).map(\.status).sorted { $0.rawValue < $1.rawValue } == [.settled, .unconfirmed])
        } catch {
            await client.disconnect()
            await peer.stop()
            throw error
        }
        await client.disconnect()
        await peer.stop()
    }

    @Test("the Python mcp client drives `x402 mcp`: fetch → awaiting_approval → owner approves → confirm pays once")
    func pythonDrivesWalletServer() async throws {
        let w = try await World.make()
        defer { Task { await w.facilitator.stop() } }
        let binary = try x402Executable()
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.registerExactEVM()
        let router = Router()
        router.add(
            middleware: try X402Middleware(
                configuration: .init(
                    routes: ["GET /data": .exact("$0.50", on: w.network, payTo: .fixed(w.payee.checksummed))],
                    facilitator: HTTPFacilitatorClient(baseURL: w.facilitator.url), schemes: schemes)))
        router.get("data") { _, _ in "dear data" }
        let seller = await RunningApp.start(router)
        defer { seller.task.cancel() }

        let home = FileManager.default.temporaryDirectory.appendingPathComponent("x402-mcp-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        _ = FileManager.default.createFile(
            atPath: home.appendingPathComponent("key").path, contents: Data(w.payer.key.withUnsafeSecretBytes { Hex.encode($0) }.utf8),
            attributes: [.posixPermissions: 0o600])
        let out = home.appendingPathComponent("steps.json").path
        let payerBefore = try await w.devnet.usdcBalance(of: w.payer.address)

        _ = try await PythonService.run(
            "py_mcp.py", ["drive-wallet", "--x402", binary.path, "--url", "\(seller.url)/data", "--out", out],
            environment: ["X402_HOME": home.path])
        let steps = try Self.readJSON(out)
        #expect(steps["tools"] == ["confirm", "discover", "fetch", "history", "limits", "quote"])

        let fetch = try #require(steps["fetch"]?["json"], "\(steps)")
        #expect(steps["fetch"]?["isError"] == false, "\(steps)")
        #expect(fetch["status"] == "awaiting_approval")
        #expect(fetch["total_usdc"] == "0.5")
        #expect(fetch["recipient"] == .string(w.payee.checksummed))
        #expect(fetch["exitCode"] == 8)
        let id = try #require(fetch["fetch_id"]?.stringValue)
        #expect(steps["confirmEarly"]?["isError"] == true)
        #expect(steps["approve"]?["exit"] == 0, "\(steps)")

        let confirm = try #require(steps["confirm"]?["json"])
        #expect(steps["confirm"]?["isError"] == false, "\(steps)")
        #expect(confirm["body"] == "dear data")
        #expect(confirm["purchase"]?["status"] == "paid")
        try await w.expectMined(confirm["settlement"]?["transaction"]?.stringValue)
        #expect(steps["confirmAgain"]?["isError"] == true)
        #expect(steps["confirmAgain"]?["json"]?["exitCode"] == 9)
        #expect(steps["bodyFile"]?["isError"] == true)

        // History and limits through MCP; the key is in no answer.
        let history = try #require(steps["history"]?["json"]?["payments"]?.arrayValue)
        #expect(history.count == 1)
        #expect(history.first?["status"] == "settled")
        #expect(steps["limits"]?["json"]?["wallet"] == .string(w.payer.address.checksummed))
        let secret = w.payer.key.withUnsafeSecretBytes { Hex.encode($0) }
        #expect(!steps.serializedString().lowercased().contains(secret.lowercased()))
        #expect(id.hasPrefix("ft_"))

        // Paid once, on chain.
        #expect(try await w.devnet.usdcBalance(of: w.payee) == 500_000)
        #expect(try await w.devnet.usdcBalance(of: w.payer.address) == payerBefore - 500_000)
    }
}
