import Foundation
import Hummingbird
import MCP
import NIOCore
import SystemPackage
import Testing
import X402
import X402EVM
import X402MCP
import X402TestSupport

/// `x402 mcp` (the built binary, over stdio) driven by the MCP Swift SDK's client against the local
/// paid seller: the tools answer with the commands' JSON, a price above the approval threshold is
/// queued for the owner, confirm pays once, and the agent cannot read files, set options or see the key.
@Suite("x402 mcp")
struct MCPServerCLITests {
    /// `x402 mcp` as a child process with its stdin/stdout as the MCP connection.
    struct WalletServer {
        let process: Process
        let client: Client

        static func start(_ cli: CLI, _ arguments: [String]) async throws -> WalletServer {
            guard let binary = CLI.binary else {
                Issue.record("the x402 binary was not found beside the test bundle; build it (swift build --build-tests) or set X402_CLI")
                throw CancellationError()
            }
            let process = Process()
            process.executableURL = binary
            process.arguments = ["mcp"] + arguments
            var environment = ProcessInfo.processInfo.environment
            environment["X402_HOME"] = cli.home.path
            environment["X402_PRIVATE_KEY"] = nil
            process.environment = environment
            let toServer = Pipe()
            let fromServer = Pipe()
            process.standardInput = toServer
            process.standardOutput = fromServer
            process.standardError = FileHandle.nullDevice
            try process.run()
            let transport = StdioTransport(
                input: FileDescriptor(rawValue: fromServer.fileHandleForReading.fileDescriptor),
                output: FileDescriptor(rawValue: toServer.fileHandleForWriting.fileDescriptor))
            let client = Client(name: "test-agent", version: "1.0")
            _ = try await client.connect(transport: transport)
            return WalletServer(process: process, client: client)
        }

        /// Calls a tool; returns whether it is an error and its JSON (structuredContent and text agree).
        func call(_ name: String, _ arguments: [String: Value] = [:]) async throws -> (isError: Bool, json: JSONValue) {
            let result = try await client.send(CallTool.request(CallTool.Parameters(name: name, arguments: arguments))).value
            guard case .text(let text, _, _)? = result.content.first else {
                Issue.record("no text in \(result)")
                throw CancellationError()
            }
            let json = try JSONValue(parsing: text)
            #expect(try JSONValue(mcp: try #require(result.structuredContent)) == json)
            return (result.isError == true, json)
        }

        func stop() async {
            await client.disconnect()
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
    }

    @Test("fetch pays within the limits; above the threshold awaiting_approval → owner approves → confirm pays once; the key never shows")
    func agentFlow() async throws {
        try await BuyerCLITests.withSeller { cli, keyFile, key, base, facilitator in
            let server = try await WalletServer.start(cli, ["--key-file", keyFile])
            var outputs: [JSONValue] = []
            do {
                let tools = try await server.client.listTools().tools.map(\.name)
                #expect(Set(tools) == ["discover", "quote", "fetch", "confirm", "limits", "history"])

                let quote = try await server.call("quote", ["url": .string(base + "/paid")])
                #expect(!quote.isError, "\(quote.json)")
                #expect(quote.json["options"]?.arrayValue?.first?["amount"] == "10000")
                #expect(await facilitator.verifies == 0)

                let paid = try await server.call("fetch", ["url": .string(base + "/paid")])
                #expect(!paid.isError, "\(paid.json)")
                #expect(paid.json["status"] == "paid")
                #expect(paid.json["body"] == "premium data")
                #expect(await facilitator.settled.count == 1)

                let queued = try await server.call("fetch", ["url": .string(base + "/medium")])
                #expect(!queued.isError, "\(queued.json)")
                #expect(queued.json["status"] == "awaiting_approval")
                #expect(queued.json["exitCode"] == 8)
                #expect(queued.json["amount_usdc"] == "0.5")
                let id = try #require(queued.json["fetch_id"]?.stringValue)
                #expect(await facilitator.verifies == 1)

                let early = try await server.call("confirm", ["fetch_id": .string(id)])
                #expect(early.isError)
                #expect(early.json["exitCode"] == 9)

                let approve = try await cli.run(["approvals", "approve", id, "--json"])
                #expect(approve.status == 0, "\(approve)")
                let confirm = try await server.call("confirm", ["fetch_id": .string(id)])
                #expect(!confirm.isError, "\(confirm.json)")
                #expect(confirm.json["body"] == "medium data")
                #expect(confirm.json["purchase"]?["status"] == "paid")
                let again = try await server.call("confirm", ["fetch_id": .string(id)])
                #expect(again.isError)
                #expect(again.json["exitCode"] == 9)
                #expect(await facilitator.settled.count == 2)

                let history = try await server.call("history", ["limit": 10])
                #expect(history.json["payments"]?.arrayValue?.count == 2)
                let limits = try await server.call("limits")
                #expect(limits.json["wallet"] == .string(key.address.checksummed))
                #expect(limits.json["limits"]?["approvalThreshold"] == "0.1")
                outputs = [quote.json, paid.json, queued.json, early.json, confirm.json, again.json, history.json, limits.json]
            } catch {
                await server.stop()
                throw error
            }
            await server.stop()
            let secret = key.withUnsafeSecretBytes { Hex.encode($0) }.lowercased()
            for output in outputs { #expect(!output.serializedString().lowercased().contains(secret)) }
        }
    }

    @Test("discover runs x402 discover on the facilitator's catalog with the agent's filters, and refuses bad filters")
    func discover() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let queries = QueryLog()
        let router = Router()
        router.get("discovery/resources") { request, _ -> Response in
            await queries.add(request.uri.query ?? "")
            let item = DiscoveryResource(
                resource: "https://api.example/weather", x402Version: .v2,
                accepts: [
                    .v2(
                        PaymentRequirements(
                            scheme: "exact", network: .baseSepolia, amount: "10000", asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
                            payTo: testPayTo))
                ], lastUpdated: Date(timeIntervalSince1970: 1_800_000_000))
            let body = DiscoveryResponse(items: [item], pagination: .init(limit: 5, offset: 0, total: 1)).json.serialized()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        try await withLoopbackServer(router) { base in
            let server = try await WalletServer.start(cli, ["--facilitator", base])
            do {
                let found = try await server.call("discover", ["type": "http", "network": "eip155:84532", "limit": 5])
                #expect(!found.isError, "\(found.json)")
                #expect(found.json["resources"]?.arrayValue?.first?["resource"] == "https://api.example/weather")
                #expect(found.json["facilitator"]?.stringValue == base)
                let query = await queries.all.last ?? ""
                #expect(query.contains("type=http") && query.contains("network=eip155:84532") && query.contains("limit=5"), "\(query)")
                let bad = try await server.call("discover", ["type": "ftp"])
                #expect(bad.isError)
                #expect(await queries.all.count == 1)
            } catch {
                await server.stop()
                throw error
            }
            await server.stop()
        }
    }

    @Test("agent arguments stay values: no @file body, no options through the URL, method or headers; limits cannot be set")
    func hostileArguments() async throws {
        try await BuyerCLITests.withSeller { cli, keyFile, _, base, facilitator in
            let server = try await WalletServer.start(cli, ["--key-file", keyFile])
            do {
                let file = try await server.call("fetch", ["url": .string(base + "/echo"), "body": "@\(keyFile)"])
                #expect(file.isError)
                #expect(file.json["error"]?.stringValue?.contains("@") == true)

                let optionURL = try await server.call("fetch", ["url": "--yes"])
                #expect(optionURL.isError)
                let method = try await server.call("fetch", ["url": .string(base + "/medium"), "method": "--yes"])
                #expect(method.isError)

                // A header value that looks like an option is sent as a header; the dear price still queues.
                let header = try await server.call("fetch", ["url": .string(base + "/medium"), "headers": ["X-Note: --yes"]])
                #expect(!header.isError, "\(header.json)")
                #expect(header.json["status"] == "awaiting_approval")

                let injected = try await server.call("fetch", ["url": .string(base + "/paid"), "headers": ["X-Note: a\r\nHost: evil.example"]])
                #expect(injected.isError)

                // A body that looks like an option is the body.
                let echo = try await server.call("fetch", ["url": .string(base + "/echo"), "body": "--yes"])
                #expect(!echo.isError, "\(echo.json)")
                #expect(echo.json["body"] == "echo: --yes")

                let unknown = try await server.call("set_limits", ["approvalThreshold": "100"])
                #expect(unknown.isError)
                let badID = try await server.call("confirm", ["fetch_id": "../../etc"])
                #expect(badID.isError)
                #expect(await facilitator.settled.count == 1)
            } catch {
                await server.stop()
                throw error
            }
            await server.stop()
        }
    }
}

actor QueryLog {
    private(set) var all: [String] = []
    func add(_ query: String) { all.append(query) }
}
