import Foundation
import Hummingbird
import NIOCore
import Testing
import X402
import X402EVM
import X402Hummingbird
import X402TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What one run of the `x402` binary produced.
struct CLIResult: CustomStringConvertible {
    let status: Int32
    let stdout: String
    let stderr: String

    /// The single JSON object on stdout.
    func json() throws -> JSONValue { try JSONValue(parsing: Array(stdout.utf8)) }

    var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
}

/// Runs the built `x402` binary in a private `X402_HOME`.
struct CLI {
    /// `$X402_CLI`, else `x402` beside the test bundle (the scratch path's debug folder).
    static let binary: URL? = {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["X402_CLI"], !path.isEmpty { return URL(fileURLWithPath: path) }
        var candidates: [URL] = []
        if let first = CommandLine.arguments.first { candidates.append(URL(fileURLWithPath: first).deletingLastPathComponent()) }
        candidates.append(Bundle.main.bundleURL)
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        for directory in candidates {
            // On macOS the test binary sits inside <name>.xctest/Contents/MacOS.
            var d = directory
            for _ in 0..<4 {
                let candidate = d.appendingPathComponent("x402")
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                    FileManager.default.isExecutableFile(atPath: candidate.path)
                {
                    return candidate
                }
                d.deleteLastPathComponent()
            }
        }
        return nil
    }()

    /// A fresh home directory for the ledger, limits and keys.
    let home: URL

    init() throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("x402-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    }

    func cleanUp() { try? FileManager.default.removeItem(at: home) }

    /// Writes `key` to a 0600 file in the home and returns its path.
    func writeKey(_ key: PrivateKey, name: String = "buyer.key") throws -> String {
        let path = home.appendingPathComponent(name).path
        let text = key.withUnsafeSecretBytes { Hex.encode($0) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]))
        return path
    }

    /// Runs `x402 arguments…` with stdin from /dev/null (non-interactive); `environment` adds variables.
    func run(_ arguments: [String], environment extra: [String: String] = [:]) async throws -> CLIResult {
        guard let binary = Self.binary else {
            Issue.record("the x402 binary was not found beside the test bundle; build it (swift build --build-tests) or set X402_CLI")
            throw CancellationError()
        }
        var environment = ["X402_HOME": home.path]
        for (k, v) in extra { environment[k] = v }
        let output = try await runProcess(binary, arguments, environment: environment, scratch: home)
        return CLIResult(status: output.status, stdout: output.stdout, stderr: output.stderr)
    }
}

/// The fault-injection seam: checks the buyer's authorization and answers with scripted verdicts.
/// Settlement fails for payments to ``TestSeller/rejectingPayTo``.
extension ScriptedFacilitator {
    init(buyer: EthereumAddress) {
        self.init(
            verify: { request in
                let authorization = request.paymentPayload.payload["authorization"]?.objectValue
                guard let from = authorization?["from"]?.stringValue, from.lowercased() == buyer.lowercased,
                    authorization?["value"]?.stringValue == request.paymentRequirements.amountString
                else { return .success(.invalid(.exactEVMPayloadSignature)) }
                return .success(.valid(payer: buyer.checksummed))
            },
            settle: { request in
                let network = request.paymentRequirements.networkIdentifier
                if request.paymentRequirements.payToAddress.lowercased() == TestSeller.rejectingPayTo.lowercased() {
                    return .success(
                        SettleResponse(success: false, errorReason: .insufficientFunds, transaction: "", network: network, payer: buyer.checksummed))
                }
                let transaction = Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255) })
                return .success(SettleResponse(success: true, transaction: transaction, network: network, payer: buyer.checksummed))
            })
    }
}

extension AnyPaymentRequirements {
    var amountString: String {
        switch self {
        case .v1(let r): r.maxAmountRequired
        case .v2(let r): r.amount
        }
    }
    var payToAddress: String {
        switch self {
        case .v1(let r): r.payTo
        case .v2(let r): r.payTo
        }
    }
}

/// A paid Hummingbird seller (`X402Middleware`, the real `ExactEVMServer`) on a random local port.
enum TestSeller {
    static let payTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
    static let rejectingPayTo = "0x1111111111111111111111111111111111111111"

    static func run(buyer: EthereumAddress, _ body: @Sendable (_ base: String, _ facilitator: ScriptedFacilitator) async throws -> Void) async throws
    {
        let facilitator = ScriptedFacilitator(buyer: buyer)
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.registerExactEVM()
        let router = Router()
        router.add(
            middleware: try X402Middleware(
                configuration: .init(
                    routes: [
                        "GET /paid": .exact("$0.01", on: .baseSepolia, payTo: .fixed(payTo), description: "Premium data"),
                        "GET /medium": .exact("$0.50", on: .baseSepolia, payTo: .fixed(payTo)),
                        "GET /dear": .exact("$2.00", on: .baseSepolia, payTo: .fixed(payTo)),
                        "GET /reject": .exact("$0.01", on: .baseSepolia, payTo: .fixed(rejectingPayTo)),
                        "POST /echo": .exact("$0.02", on: .baseSepolia, payTo: .fixed(payTo)),
                    ],
                    facilitator: facilitator, schemes: schemes)))
        router.get("paid") { _, _ in "premium data" }
        router.get("medium") { _, _ in "medium data" }
        router.get("dear") { _, _ in "expensive data" }
        router.get("reject") { _, _ in "never delivered" }
        router.post("echo") { request, _ -> String in
            let body = try await request.body.collect(upTo: 1 << 16)
            return "echo: " + String(buffer: body)
        }
        router.get("free") { _, _ in "free data" }
        router.get("missing") { _, _ -> Response in Response(status: .notFound) }
        try await withLoopbackServer(router) { base in try await body(base, facilitator) }
    }
}
