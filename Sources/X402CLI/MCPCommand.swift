import ArgumentParser
import AsyncHTTPClient
import Foundation
import MCP
import NIOCore
import NIOHTTP1
import SystemPackage
import X402
import X402MCP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `x402 mcp`: the wallet as an MCP server over stdio, for agent hosts (Claude Desktop, IDE agents).
///
/// Each tool runs the buyer command of the same name in process with `--json` and returns its JSON
/// object, so the answers are exactly those of `x402 quote|fetch|fetch confirm|limits|history
/// --json`. The key is read by this process from the usual sources (`--key-file`, `--key-env`,
/// `$X402_PRIVATE_KEY`, `$X402_KEY_FILE`, `$X402_HOME/key`); it is never a tool argument and never
/// in a tool's output. The agent cannot approve anything: a price above the approval threshold (or
/// a recipient the firewall does not allow) is queued as `awaiting_approval` for the owner
/// (`x402 approvals approve ID`), and the limits can only be read.
struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the wallet to an MCP host over stdio (tools: discover, quote, fetch, confirm, limits, history).",
        discussion: """
            Speaks the Model Context Protocol on stdin/stdout; diagnostics go to stderr. The tools answer \
            with the JSON of the matching command's --json output. `fetch` pays within your limits, or \
            records the purchase (status pre_approved with probe, or awaiting_approval when it needs your \
            approval) and returns its fetch_id; approve it with `x402 approvals approve ID`, then the \
            agent calls `confirm`. The key never leaves this process; limits cannot be changed through MCP.

            Host configuration (Claude Desktop's claude_desktop_config.json, IDE agents alike):
              {"mcpServers": {"x402": {"command": "/usr/local/bin/x402", "args": ["mcp"],
                                       "env": {"X402_KEY_FILE": "/Users/me/.x402/key"}}}}
            """)

    @OptionGroup var keys: KeyOptions
    @OptionGroup var svmKeys: SolanaKeyOptions
    @OptionGroup var store: StoreOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The facilitator whose /discovery/resources the discover tool reads (default $X402_FACILITATOR_URL, else https://x402.org/facilitator).",
            valueName: "url"))
    var facilitator: String?

    func validate() throws {
        if let facilitator {
            guard let url = URL(string: facilitator), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw ValidationError("--facilitator must be an http(s) URL")
            }
        }
    }

    func run() async throws {
        // The protocol gets a private copy of stdout; fd 1 then points at stderr, so nothing a
        // command prints can corrupt the protocol stream.
        let protocolOutput = dup(STDOUT_FILENO)
        guard protocolOutput >= 0, dup2(STDERR_FILENO, STDOUT_FILENO) >= 0 else { throw BuyerError("cannot set up stdout for MCP") }
        let tools = WalletTools(
            commonArguments: commonArguments, solanaArguments: solanaArguments,
            discoveryURL: facilitator ?? ProcessInfo.processInfo.environment["X402_FACILITATOR_URL"].flatMap { $0.isEmpty ? nil : $0 }
                ?? "https://x402.org/facilitator")
        let server = Server(
            name: "x402", version: WalletTools.version,
            instructions: """
                An x402 wallet. Use `quote` to see what a URL costs, `fetch` to fetch (and pay for) it within the owner's \
                limits. A fetch answered with status awaiting_approval has not paid: tell the user, who approves it with \
                `x402 approvals approve <fetch_id>`; then call `confirm`. `probe: true` records the price without paying.
                """,
            capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: WalletTools.definitions) }
        await server.withMethodHandler(CallTool.self) { parameters in await tools.call(parameters) }
        let transport = StdioTransport(input: .standardInput, output: FileDescriptor(rawValue: protocolOutput))
        try await server.start(transport: transport)
        await server.waitUntilCompleted()
    }

    /// The key and store options passed on to every command a tool runs (paths and variable
    /// names, never a key).
    var commonArguments: [String] {
        var arguments: [String] = []
        if let keyFile = keys.keyFile { arguments.append("--key-file=\(keyFile)") }
        if let keyEnv = keys.keyEnv { arguments.append("--key-env=\(keyEnv)") }
        if let ledger = store.ledger { arguments.append("--ledger=\(ledger)") }
        if let policy = store.policy { arguments.append("--policy=\(policy)") }
        return arguments
    }

    var solanaArguments: [String] {
        var arguments: [String] = []
        if let file = svmKeys.svmKeyFile { arguments.append("--svm-key-file=\(file)") }
        if let env = svmKeys.svmKeyEnv { arguments.append("--svm-key-env=\(env)") }
        if let rpc = svmKeys.svmRpcURL { arguments.append("--svm-rpc-url=\(rpc)") }
        return arguments
    }
}

/// The tools of `x402 mcp`: each builds the argv of a buyer command from the tool's arguments
/// (every value as `--name=value` or after `--`, so no argument can become another option) and
/// runs it in process with its JSON output captured.
struct WalletTools: Sendable {
    static let version = "1.0.0"
    /// Key and store options for every command.
    let commonArguments: [String]
    /// Solana key options, for the commands that pay (quote, fetch, confirm).
    let solanaArguments: [String]
    let discoveryURL: String

    static let definitions: [Tool] = [
        Tool(
            name: "discover", description: "Find paid resources in the facilitator's discovery catalog (bazaar), with prices. Nothing is paid.",
            inputSchema: [
                "type": "object",
                "properties": [
                    "query": ["type": "string", "description": "Words to search for (all must match)"],
                    "type": ["type": "string", "description": "http or mcp"],
                    "network": ["type": "string", "description": "CAIP-2 network, e.g. eip155:8453"],
                    "max_price": ["type": "string", "description": "Only resources costing at most this many dollars, e.g. 0.05"],
                    "limit": ["type": "integer", "description": "At most this many (1-100, default 20)"],
                ],
            ], annotations: .init(readOnlyHint: true, openWorldHint: true)),
        Tool(
            name: "quote", description: "What a URL costs and whether the owner's limits would pay it. Nothing is signed.",
            inputSchema: requestSchema(extra: [:], required: ["url"]), annotations: .init(readOnlyHint: true, openWorldHint: true)),
        Tool(
            name: "fetch",
            description: """
                Fetch a URL, paying once within the owner's limits. Returns the content, or status pre_approved (probe) / \
                awaiting_approval with a fetch_id: nothing was paid; after the owner approves, call confirm with the fetch_id.
                """,
            inputSchema: requestSchema(
                extra: [
                    "probe": ["type": "boolean", "description": "Record the price as a purchase to confirm later; sign nothing."],
                    "max": ["type": "string", "description": "Refuse to pay more than this many dollars, e.g. 0.05"],
                ], required: ["url"]),
            annotations: .init(destructiveHint: true, idempotentHint: false, openWorldHint: true)),
        Tool(
            name: "confirm", description: "Pay a pre_approved or owner-approved purchase by its fetch_id, once, and return the content.",
            inputSchema: [
                "type": "object",
                "properties": [
                    "fetch_id": ["type": "string"],
                    "headers": ["type": "array", "items": ["type": "string"], "description": "Request headers, 'Name: value'"],
                    "body": ["type": "string"],
                ],
                "required": ["fetch_id"],
            ], annotations: .init(destructiveHint: true, idempotentHint: true, openWorldHint: true)),
        Tool(
            name: "limits", description: "The owner's spending limits, the budget left and the firewall. Read only.",
            inputSchema: ["type": "object"], annotations: .init(readOnlyHint: true)),
        Tool(
            name: "history", description: "Recorded payments and approval events, newest first.",
            inputSchema: ["type": "object", "properties": ["limit": ["type": "integer", "description": "At most this many (default 20)"]]],
            annotations: .init(readOnlyHint: true)),
    ]

    static func requestSchema(extra: [String: Value], required: [String]) -> Value {
        var properties: [String: Value] = [
            "url": ["type": "string", "description": "The http(s) URL"],
            "method": ["type": "string", "description": "HTTP method (default GET, or POST with a body)"],
            "headers": ["type": "array", "items": ["type": "string"], "description": "Request headers, 'Name: value'"],
            "body": ["type": "string", "description": "The request body"],
        ]
        for (key, value) in extra { properties[key] = value }
        return ["type": "object", "properties": .object(properties), "required": .array(required.map { .string($0) })]
    }

    func call(_ parameters: CallTool.Parameters) async -> CallTool.Result {
        let arguments = parameters.arguments ?? [:]
        do {
            switch parameters.name {
            case "discover": return try await discover(arguments)
            case "quote": return await run(QuoteCommand.self, ["--json"] + commonArguments + solanaArguments + (try request(arguments)))
            case "fetch":
                var argv = ["--json"] + commonArguments + solanaArguments
                if arguments["probe"]?.boolValue == true { argv.append("--probe") }
                if let max = try string(arguments, "max") { argv.append("--max=\(max)") }
                return await run(FetchCommand.self, argv + (try request(arguments)))
            case "confirm":
                guard let id = try string(arguments, "fetch_id"), PurchaseApprovals.isValidID(id) else {
                    return Self.error("confirm needs a fetch_id (the one fetch returned)")
                }
                var argv = ["--json"] + commonArguments + solanaArguments + (try headersAndBody(arguments))
                argv += ["--", id]
                return await run(FetchCommand.Confirm.self, argv)
            case "limits": return await run(LimitsCommand.Show.self, ["--json"] + commonArguments)
            case "history":
                var argv = ["--json"] + commonArguments
                if let limit = arguments["limit"]?.intValue { argv.append("--limit=\(min(max(limit, 1), 500))") }
                return await run(HistoryCommand.self, argv)
            default:
                return Self.error("unknown tool: \(String(parameters.name.prefix(128)))")
            }
        } catch let error as ToolArgumentError {
            return Self.error(error.message)
        } catch {
            return Self.error("\(error)")
        }
    }

    // MARK: - Arguments

    struct ToolArgumentError: Error {
        let message: String
    }

    private func string(_ arguments: [String: Value], _ name: String) throws -> String? {
        guard let value = arguments[name], !value.isNull else { return nil }
        guard let text = value.stringValue, text.utf8.count <= 1 << 20 else { throw ToolArgumentError(message: "\(name) must be a string") }
        return text
    }

    /// `--request=…`, `--header=…`, `--data=…` and, last, `-- URL`.
    private func request(_ arguments: [String: Value]) throws -> [String] {
        guard let url = try string(arguments, "url") else { throw ToolArgumentError(message: "url is required") }
        guard let components = URLComponents(string: url), ["http", "https"].contains(components.scheme?.lowercased() ?? "") else {
            throw ToolArgumentError(message: "url must be an http(s) URL")
        }
        var argv: [String] = []
        if let method = try string(arguments, "method") {
            guard !method.isEmpty, method.utf8.count <= 16, method.allSatisfy({ $0.isLetter }) else {
                throw ToolArgumentError(message: "method must be an HTTP method name")
            }
            argv.append("--request=\(method)")
        }
        argv += try headersAndBody(arguments)
        return argv + ["--", url]
    }

    private func headersAndBody(_ arguments: [String: Value]) throws -> [String] {
        var argv: [String] = []
        if let headers = arguments["headers"], !headers.isNull {
            guard let list = headers.arrayValue, list.count <= 64 else { throw ToolArgumentError(message: "headers must be a list of 'Name: value'") }
            for header in list {
                guard let text = header.stringValue, text.contains(":"), text.utf8.count <= 8192,
                    !text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F })
                else {
                    throw ToolArgumentError(message: "each header must look like 'Name: value'")
                }
                argv.append("--header=\(text)")
            }
        }
        if let body = try string(arguments, "body") {
            // `@path` would make the command read a local file and send it: never for an agent.
            guard !body.hasPrefix("@") else { throw ToolArgumentError(message: "a body starting with @ is not accepted (it would read a file)") }
            argv.append("--data=\(body)")
        }
        return argv
    }

    // MARK: - Running commands

    /// Parses and runs a buyer command with its output captured; the result is its JSON object
    /// (`isError` for exits other than paid, free and awaiting approval).
    private func run<Command: AsyncParsableCommand>(_ type: Command.Type, _ argv: [String]) async -> CallTool.Result {
        let capture = OutputCapture()
        var failure: String?
        var exitCode: Int32 = 0
        do {
            var command = try Command.parse(argv)
            try await BuyerOutput.$capture.withValue(capture) { try await command.run() }
        } catch let code as ExitCode {
            exitCode = code.rawValue
        } catch {
            failure = Command.message(for: error)
        }
        guard var object = capture.last else { return Self.error(failure ?? "the command printed nothing (exit \(exitCode))") }
        if let failure, object["error"] == nil { object["error"] = .string(failure) }
        let ok = failure == nil && [BuyerExit.paid.rawValue, BuyerExit.free.rawValue, BuyerExit.awaitingApproval.rawValue].contains(exitCode)
        return Self.json(object, isError: !ok)
    }

    // MARK: - Discovery

    /// `x402 discover` in process: the facilitator's catalog (search with a query), every field
    /// bounded and parsed, prices in dollars where known.
    private func discover(_ arguments: [String: Value]) async throws -> CallTool.Result {
        var argv = ["--json", "--facilitator=\(discoveryURL)"]
        if let type = try string(arguments, "type") {
            guard ["http", "mcp"].contains(type) else { throw ToolArgumentError(message: "type must be http or mcp") }
            argv.append("--type=\(type)")
        }
        if let network = try string(arguments, "network") {
            guard Network(network) != nil else { throw ToolArgumentError(message: "network must be a CAIP-2 id such as eip155:8453") }
            argv.append("--network=\(network)")
        }
        if let maxPrice = try string(arguments, "max_price") { argv.append("--max-price=\(maxPrice)") }
        argv.append("--limit=\(min(max(arguments["limit"]?.intValue ?? 20, 1), 100))")
        // After `--`, the agent's words are the query, never options.
        if let query = try string(arguments, "query") { argv += ["--", query] }
        return await run(DiscoverCommand.self, argv)
    }

    // MARK: - Results

    static func json(_ object: JSONObject, isError: Bool) -> CallTool.Result {
        let value = JSONValue.object(object)
        return CallTool.Result(
            content: [.text(text: value.serializedString(), annotations: nil, _meta: nil)], structuredContent: try? Value(x402: value),
            isError: isError)
    }

    static func error(_ message: String) -> CallTool.Result {
        json(["error": .string(message)], isError: true)
    }
}
