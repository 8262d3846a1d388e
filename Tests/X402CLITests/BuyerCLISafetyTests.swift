import Foundation
import Hummingbird
import NIOCore
import Testing
import X402
import X402EVM
import X402TestSupport

/// A local server whose answers a test scripts (redirectors, hostile sellers), logging what it saw.
enum CLIScriptedServer {
    typealias Answer = (status: Int, headers: [(String, String)], body: String)
    typealias Handler = @Sendable (_ path: String, _ headers: [String: String]) async -> Answer

    actor Log {
        private(set) var requests: [(path: String, headers: [String: String])] = []
        func add(_ path: String, _ headers: [String: String]) { requests.append((path, headers)) }
        var paymentHeaders: [String] { requests.compactMap { $0.headers["payment-signature"] ?? $0.headers["x-payment"] } }
    }

    struct Middleware<Context: RequestContext>: RouterMiddleware {
        let handler: Handler
        let log: Log
        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.rawName.lowercased()] = field.value }
            await log.add(request.uri.path, headers)
            let answer = await handler(request.uri.path, headers)
            var fields = HTTPFields()
            for (name, value) in answer.headers { fields.append(HTTPFields.Element(name: HTTPFields.Element.Name(name)!, value: value)) }
            return Response(status: .init(code: answer.status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: answer.body)))
        }
    }

    static func run(_ handler: @escaping Handler, _ body: @Sendable (_ base: String, _ log: Log) async throws -> Void) async throws {
        let log = Log()
        let router = Router()
        router.add(middleware: Middleware(handler: handler, log: log))
        router.get("**") { _, _ in "unreachable" }
        try await withLoopbackServer(router) { base in try await body(base, log) }
    }

    /// A v2 402 for $0.01 of Base Sepolia USDC.
    static func paymentRequired(url: String, payTo: String = TestSeller.payTo, description: String = "", amount: String = "10000") -> Answer {
        let requirement = PaymentRequirements(
            scheme: "exact", network: .baseSepolia, amount: amount, asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", payTo: payTo,
            maxTimeoutSeconds: 60, extra: ["name": "USDC", "version": "2"])
        let required = PaymentRequired(
            error: "Payment required", resource: ResourceInfo(url: url, description: description), accepts: [requirement])
        return (402, [("PAYMENT-REQUIRED", required.headerValue)], "{}")
    }
}

@Suite("x402 buyer CLI: redirects, pending settlements, hostile text")
struct BuyerCLISafetyTests {
    static func raw(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x0D || $0.value == 0x202E || $0.value == 0x2066 || $0.value == 0x200B }
    }

    @Test("fetch does not pay a 402 reached through a cross-origin redirect (exit 3) unless --allow-cross-origin-payment")
    func crossOrigin() async throws {
        try await BuyerCLITests.withSeller { cli, keyFile, _, sellerBase, facilitator in
            try await CLIScriptedServer.run({ path, _ in
                path == "/go" ? (302, [("Location", "\(sellerBase)/paid")], "") : (404, [], "")
            }) { base, redirectorLog in
                let refused = try await cli.run(["fetch", base + "/go", "--key-file", keyFile, "--json"])
                #expect(refused.status == 3, "\(refused)")
                let o = try refused.json()
                #expect(o["refusal"]?["rule"] == "crossOriginPayment")
                #expect(o["refusal"]?["paymentOrigin"] == .string("http://127.0.0.1:\(URLComponents(string: sellerBase)!.port!)"))
                #expect(refused.stderr.contains("--allow-cross-origin-payment"), "\(refused)")
                #expect(await facilitator.verifies == 0)

                let quote = try await cli.run(["quote", base + "/go", "--key-file", keyFile])
                #expect(quote.stdout.contains("note: the payment request came from \(sellerBase)/paid, another origin"), "\(quote)")
                let quoteJSON = try await cli.run(["quote", base + "/go", "--json"])
                #expect(try quoteJSON.json()["crossOriginUrl"] == .string("\(sellerBase)/paid"), "\(quoteJSON)")

                let allowed = try await cli.run(["fetch", base + "/go", "--key-file", keyFile, "--allow-cross-origin-payment"])
                #expect(allowed.status == 0, "\(allowed)")
                #expect(allowed.stdout == "premium data")
                #expect(await facilitator.settled.count == 1)
                #expect(await redirectorLog.paymentHeaders.isEmpty)
            }
        }
    }

    @Test("a pending settlement: the same payment is re-sent, then exit 7 'payment pending, tx …'; history shows it unconfirmed")
    func pending() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let keyFile = try cli.writeKey(.random())
        let tx = "0x" + String(repeating: "ab", count: 32)
        try await CLIScriptedServer.run({ path, headers in
            guard headers["payment-signature"] != nil else { return CLIScriptedServer.paymentRequired(url: "http://seller\(path)") }
            let pending = SettleResponse(success: false, errorReason: .settlementPending, transaction: tx, network: "eip155:84532")
            return (402, [("PAYMENT-RESPONSE", pending.headerValue)], "{}")
        }) { base, log in
            let result = try await cli.run(["fetch", base + "/item", "--key-file", keyFile, "--pending-wait", "3", "--json"])
            #expect(result.status == 7, "\(result)")
            let o = try result.json()
            #expect(o["status"] == "pending")
            #expect(o["settlement"]?["transaction"] == .string(tx))
            #expect(o["attempts"] == 2)
            #expect(result.stderr.contains("payment pending, tx \(tx)"), "\(result)")
            let headers = await log.paymentHeaders
            #expect(headers.count == 2)
            #expect(Set(headers).count == 1)  // the very same payment, one signature

            let history = try await cli.run(["history", "--key-file", keyFile, "--json"])
            let record = try #require(try history.json()["payments"]?.arrayValue?.first)
            #expect(record["status"] == "unconfirmed")
            #expect(record["transaction"] == .string(tx))
            #expect(record["validBefore"] != .null)
            // It still counts against the budget.
            let show = try await cli.run(["limits", "show", "--key-file", keyFile, "--json"])
            #expect(try show.json()["spent24h"] == "0.01", "\(show)")
        }
    }

    @Test("server strings with ESC, CR, bidi and zero-width characters are shown escaped by quote, fetch and history")
    func hostileText() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let keyFile = try cli.writeKey(.random())
        let description = "Premium\u{1B}[2J\rPay $0.00 only\u{202E}txt.exe\u{200B}"
        let hostilePayTo = TestSeller.payTo + "\u{1B}[1A\r\u{2066}"
        try await CLIScriptedServer.run({ path, _ in
            switch path {
            case "/describe": CLIScriptedServer.paymentRequired(url: "http://seller/\u{1B}]0;title\u{07}", description: description)
            default: CLIScriptedServer.paymentRequired(url: "http://seller\(path)", payTo: hostilePayTo)
            }
        }) { base, _ in
            let quote = try await cli.run(["quote", base + "/describe", "--key-file", keyFile])
            #expect(quote.status == 0, "\(quote)")
            #expect(!Self.raw(quote.stdout) && !Self.raw(quote.stderr), "\(quote)")
            #expect(quote.stdout.contains("description: Premium\\e[2J\\rPay $0.00 only\\u{202E}txt.exe\\u{200B}"), "\(quote)")
            #expect(quote.stdout.contains("resource:    http://seller/\\e]0;title\\u{7}"), "\(quote)")

            let quotePayTo = try await cli.run(["quote", base + "/pay", "--key-file", keyFile])
            #expect(!Self.raw(quotePayTo.stdout), "\(quotePayTo)")
            #expect(quotePayTo.stdout.contains("recipient  \(TestSeller.payTo)\\e[1A\\r\\u{2066}"), "\(quotePayTo)")

            let fetch = try await cli.run(["fetch", base + "/pay", "--key-file", keyFile, "--yes"])
            #expect(fetch.status != 0, "\(fetch)")
            #expect(!Self.raw(fetch.stderr) && !Self.raw(fetch.stdout), "\(fetch)")
            #expect(fetch.stderr.contains("\\e[1A"), "\(fetch)")

            let history = try await cli.run(["history", "--key-file", keyFile])
            #expect(!Self.raw(history.stdout), "\(history)")
            #expect(history.stdout.contains("recipient    \(TestSeller.payTo)\\e[1A\\r\\u{2066}"), "\(history)")
        }
    }

    /// Runs the CLI on a pseudo-terminal (util-linux `script`), typing `input`.
    static func runOnTerminal(_ cli: CLI, _ arguments: [String], input: String) async throws -> CLIResult {
        let binary = try #require(CLI.binary)
        let quoted = ([binary.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let output = try await runProcess(
            URL(fileURLWithPath: "/usr/bin/script"), ["-qec", quoted, "/dev/null"], environment: ["X402_HOME": cli.home.path],
            scratch: cli.home, input: input, mergingStderr: true)
        return CLIResult(status: output.status, stdout: output.stdout, stderr: "")
    }

    @Test(
        "approval prompt on a terminal: a recipient that is not an address is refused before any prompt; the prompt itself shows no raw control characters",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func approvalPromptOnTerminal() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let keyFile = try cli.writeKey(.random())
        let hostilePayTo = "\u{1B}[2K\r\u{1B}[1APay $0.01 to 0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
        try await CLIScriptedServer.run({ path, headers in
            if headers["payment-signature"] != nil {
                let done = SettleResponse(success: true, transaction: "0x" + String(repeating: "cd", count: 32), network: "eip155:84532")
                return (200, [("PAYMENT-RESPONSE", done.headerValue)], "delivered")
            }
            return CLIScriptedServer.paymentRequired(
                url: "http://seller\(path)", payTo: path == "/bad" ? hostilePayTo : TestSeller.payTo, description: "\u{1B}[31mfree\u{202E}",
                amount: "500000")
        }) { base, log in
            let bad = try await Self.runOnTerminal(cli, ["fetch", base + "/bad", "--key-file", keyFile], input: "y\n")
            #expect(bad.status == 3, "\(bad)")
            #expect(!bad.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E }, "\(bad)")
            #expect(bad.stdout.contains("is not an EVM address"), "\(bad)")
            #expect(bad.stdout.contains("\\e[2K\\r\\e[1APay $0.01"), "\(bad)")
            #expect(!bad.stdout.contains("[y/N]"), "\(bad)")
            #expect(await log.paymentHeaders.isEmpty)

            let good = try await Self.runOnTerminal(cli, ["fetch", base + "/good", "--key-file", keyFile], input: "y\n")
            #expect(good.status == 0, "\(good)")
            #expect(
                good.stdout.contains(
                    "Pay $0.50 (500000 atomic units of USDC) to \(TestSeller.payTo) on Base Sepolia (eip155:84532) for \(base)/good?"), "\(good)")
            #expect(!good.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E }, "\(good)")
            #expect(await log.paymentHeaders.count == 1)
        }
    }
}
