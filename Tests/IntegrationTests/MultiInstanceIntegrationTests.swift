import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import Testing
import X402
import X402EVM
import X402EVMRPC
import X402TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Several instances sharing one PostgreSQL database, as separate `x402` processes (built by
/// `swift build`): facilitators settle a payment once, gateways let a payment through once.
@Suite("multiple instances sharing PostgreSQL", .devnet, .postgres, .serialized)
struct MultiInstanceIntegrationTests {
    // Was "... every answer carries it" with every answer a success: only one may be (review F2).
    @Test("two facilitator processes given the same /settle at once send one transaction; one success, every answer carries it")
    func twoFacilitatorsSettleOnce() async throws {
        let devnet = try await Devnet.shared()
        let database = try TestPostgres.requireURL()
        async let firstAccount = devnet.freshAccount()
        async let secondAccount = devnet.freshAccount()
        async let payerAccount = devnet.freshAccount(eth: .zero, usdc: 1_000_000)
        let signers = [try await firstAccount, try await secondAccount]
        let payer = try await payerAccount

        var facilitators: [X402Process] = []
        defer { for facilitator in facilitators { facilitator.stop() } }
        for signer in signers {
            facilitators.append(try await X402Process.facilitator(devnet: devnet, signer: signer, database: database))
        }

        let payee = devnet.randomAddress()
        let network = try #require(Network(devnet.network))
        let requirements = PaymentRequirements(
            scheme: "exact", network: network, amount: "777", asset: devnet.token.checksummed, payTo: payee.checksummed,
            maxTimeoutSeconds: 120, extra: ["name": "USDC", "version": "2"])
        let signed = try await ExactEVMClient(signer: payer.key).createPayload(for: requirements, context: PaymentContext(version: .v2))
        let body = FacilitatorRequest(
            paymentPayload: .v2(PaymentPayload(accepted: requirements, payload: signed.payload)), paymentRequirements: .v2(requirements)
        ).jsonBytes()

        let noncesBefore = try await Self.nonces(of: signers, devnet: devnet)
        let payerBefore = try await devnet.usdcBalance(of: payer.address)

        // Ten identical /settle requests at once, alternating between the two processes.
        let clock = ContinuousClock()
        let started = clock.now
        let answers = try await withThrowingTaskGroup(of: (Int, JSONValue).self) { group in
            for i in 0..<10 {
                let url = facilitators[i % 2].url + "/settle"
                group.addTask { try await FacilitatorServiceIntegrationTests.post(url, body) }
            }
            var all: [(Int, JSONValue)] = []
            for try await answer in group { all.append(answer) }
            return all
        }
        let elapsed = clock.now - started
        let logs = facilitators.map(\.logTail).joined(separator: "\n---\n")
        #expect(answers.allSatisfy { $0.0 == 200 }, "\(answers.map(\.1)) \(logs)")
        #expect(answers.filter { $0.1["success"] == true }.count == 1, "\(answers.map(\.1)) \(logs)")
        let hashes = Set(answers.compactMap { $0.1["transaction"]?.stringValue })
        #expect(hashes.count == 1, "\(hashes)")
        let hash = try Bytes32(hex: try #require(hashes.first))
        let receipt = try #require(try await devnet.client.transactionReceipt(hash))
        #expect(receipt.succeeded)
        #expect(signers.map(\.address).contains(receipt.from))

        // One transaction in total from the two signers; the money moved once.
        let noncesAfter = try await Self.nonces(of: signers, devnet: devnet)
        #expect(zip(noncesAfter, noncesBefore).map { $0 - $1 }.reduce(0, +) == 1)
        #expect(payerBefore - (try await devnet.usdcBalance(of: payer.address)) == 777)
        #expect(try await devnet.usdcBalance(of: payee) == 777)

        // Later repeats on either process fail, naming the transaction from the shared records.
        for facilitator in facilitators {
            let (status, again) = try await FacilitatorServiceIntegrationTests.post(facilitator.url + "/settle", body)
            #expect(status == 200 && again["success"] == false && again["transaction"] == .string(hash.hexString), "\(again)")
            #expect(again["errorReason"] == "invalid_exact_evm_nonce_already_used", "\(again)")
        }
        #expect(try await Self.nonces(of: signers, devnet: devnet) == noncesAfter)
        print("two facilitators: 10 concurrent /settle of one payment answered in \(elapsed)")
    }
}

extension MultiInstanceIntegrationTests {
    @Test("one payment sent 50 times at once across 3 gateway processes sharing PostgreSQL: one handler run, one settlement, 49 rejections")
    func replayAcrossThreeGateways() async throws {
        let devnet = try await Devnet.shared()
        let database = try TestPostgres.requireURL()
        async let facilitatorAccount = devnet.freshAccount()
        async let payerAccount = devnet.freshAccount(eth: .zero, usdc: 1_000_000)
        let payer = try await payerAccount
        let payee = devnet.randomAddress()

        // The upstream counts how often its handler runs.
        let hits = UpstreamHits()
        let router = Router()
        router.get("/paid") { _, _ -> String in
            await hits.hit()
            return "the paid content"
        }
        let upstream = await RunningApp.start(router)
        defer { upstream.task.cancel() }
        let upstreamURL = upstream.url

        let facilitator = try await X402Process.facilitator(devnet: devnet, signer: try await facilitatorAccount, database: "memory")
        defer { facilitator.stop() }
        var gateways: [X402Process] = []
        defer { for gateway in gateways { gateway.stop() } }
        for _ in 0..<3 {
            gateways.append(
                try await X402Process.start(
                    [
                        "gateway", "--upstream", upstreamURL, "--route", "GET /paid=$0.001", "--pay-to", payee.checksummed,
                        "--network", devnet.network, "--facilitator", facilitator.url, "--port", "0", "--state", database,
                        "--log-level", "warning",
                    ], port: nil))
        }

        // One valid payment for the route's offer.
        let offer = try await Self.send(gateways[0].url + "/paid")
        #expect(offer.status == 402)
        let required = try PaymentRequired(headerValue: try #require(offer.header("PAYMENT-REQUIRED")))
        let requirements = try #require(required.accepts.first)
        #expect(requirements.amount == "1000")
        let signed = try await ExactEVMClient(signer: payer.key).createPayload(for: requirements, context: PaymentContext(version: .v2))
        let payment = PaymentPayload(resource: required.resource, accepted: requirements, payload: signed.payload).headerValue
        let payerBefore = try await devnet.usdcBalance(of: payer.address)

        let clock = ContinuousClock()
        let started = clock.now
        let responses = try await withThrowingTaskGroup(of: HTTPAnswer.self) { group in
            for i in 0..<50 {
                let url = gateways[i % 3].url + "/paid"
                group.addTask { try await Self.send(url, headers: [("PAYMENT-SIGNATURE", payment)]) }
            }
            var all: [HTTPAnswer] = []
            for try await response in group { all.append(response) }
            return all
        }
        let elapsed = clock.now - started
        let logs = (gateways + [facilitator]).map(\.logTail).joined(separator: "\n---\n")

        let served = responses.filter { $0.status == 200 }
        #expect(served.count == 1, "\(responses.map(\.status)) \(logs)")
        #expect(served.first?.text == "the paid content")
        let settlement = try #require(served.first?.header("PAYMENT-RESPONSE"))
        let settled = try SettleResponse(headerValue: settlement)
        #expect(settled.success)

        let rejected = responses.filter { $0.status != 200 }
        #expect(rejected.count == 49)
        var reasons: [String: Int] = [:]
        for response in rejected {
            #expect(response.status == 402)
            let reason = response.header("PAYMENT-REQUIRED").flatMap { try? PaymentRequired(headerValue: $0) }?.error ?? "none"
            reasons[reason, default: 0] += 1
        }
        #expect(Set(reasons.keys).isSubset(of: [ErrorReason.paymentInProgress.rawValue, ErrorReason.paymentAlreadyUsed.rawValue]), "\(reasons)")

        #expect(await hits.count == 1)
        #expect(payerBefore - (try await devnet.usdcBalance(of: payer.address)) == 1000)
        #expect(try await devnet.usdcBalance(of: payee) == 1000)

        // Later, on any instance, the payment stays used.
        let later = try await Self.send(gateways[2].url + "/paid", headers: [("PAYMENT-SIGNATURE", payment)])
        #expect(later.status == 402)
        #expect(later.header("PAYMENT-REQUIRED").flatMap { try? PaymentRequired(headerValue: $0) }?.error == ErrorReason.paymentAlreadyUsed.rawValue)
        #expect(await hits.count == 1)
        print("3 gateways: 50 concurrent requests with one payment answered in \(elapsed); rejections \(reasons)")
    }
}

// MARK: - Child processes of the built `x402` executable

/// A running `x402` child process; its stderr goes to a log file, its environment carries secrets.
final class X402Process: Sendable {
    let process: Process
    let url: String
    let logPath: String

    private init(process: Process, url: String, logPath: String) {
        self.process = process
        self.url = url
        self.logPath = logPath
    }

    /// Starts `x402 ARGUMENTS` and waits until `readiness(url)` holds (`url` from `port`) or the
    /// first stdout line when `port` is nil (a JSON object with `url`).
    static func start(_ arguments: [String], environment extra: [String: String] = [:], port: Int?) async throws -> X402Process {
        let logPath = FileManager.default.temporaryDirectory.appendingPathComponent("x402-child-\(UUID().uuidString).log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = Process()
        process.executableURL = try x402Executable()
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardInput = FileHandle.nullDevice
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let url: String
        if let port {
            url = "http://127.0.0.1:\(port)"
        } else {
            let line = await firstLine(of: output)
            guard let ready = try? JSONValue(parsing: line), let found = ready["url"]?.stringValue else {
                let child = X402Process(process: process, url: "", logPath: logPath)
                child.stop()
                throw X402ProcessFailed(
                    description: "x402 \(arguments.prefix(1)) did not start: \(String(decoding: line, as: UTF8.self)) \(child.logTail)")
            }
            url = found
        }
        return X402Process(process: process, url: url, logPath: logPath)
    }

    /// `x402 facilitator serve` on the devnet with `signer`'s key (given in the environment) and `database`.
    static func facilitator(devnet: Devnet, signer: DevnetAccount, database: String) async throws -> X402Process {
        let port = try freeLoopbackPort()
        let key = signer.key.withUnsafeSecretBytes { Hex.encode($0) }
        let child = try await start(
            [
                "facilitator", "serve", "--network", "\(devnet.network)=\(devnet.url)", "--signer-key-env", "X402_TEST_FACILITATOR_KEY",
                "--database", database, "--port", "\(port)", "--receipt-timeout", "60", "--log-level", "warning",
            ],
            environment: ["X402_TEST_FACILITATOR_KEY": key], port: port)
        try await child.waitUntilAnswering(path: "/supported")
        return child
    }

    /// Polls `path` until it answers 200 (30 s at most) or the process exits.
    func waitUntilAnswering(path: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw X402ProcessFailed(description: "x402 exited (\(process.terminationStatus)): \(logTail)") }
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: url + path), timeout: .seconds(2)),
                response.status == .ok
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        stop()
        throw X402ProcessFailed(description: "x402 did not answer \(path) at \(url) within 30 s: \(logTail)")
    }

    var logTail: String { String(((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").suffix(3000)) }

    /// SIGTERM, then waits for the exit.
    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

struct X402ProcessFailed: Error, CustomStringConvertible {
    let description: String
}

/// Counts how often the upstream handler ran.
actor UpstreamHits {
    private(set) var count = 0
    func hit() { count += 1 }
}

/// A buffered HTTP answer.
struct HTTPAnswer: Sendable {
    let status: Int
    /// Lower-cased header names and their first values.
    let headers: [String: String]
    let text: String
    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

extension MultiInstanceIntegrationTests {
    /// A GET with `headers`, buffered.
    static func send(_ url: String, headers: [(String, String)] = []) async throws -> HTTPAnswer {
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(90))
        let bytes = try await response.body.collect(upTo: 1 << 22)
        var headers: [String: String] = [:]
        for (name, value) in response.headers where headers[name.lowercased()] == nil { headers[name.lowercased()] = value }
        return HTTPAnswer(status: Int(response.status.code), headers: headers, text: String(buffer: bytes))
    }

    /// The next transaction nonce of each account.
    static func nonces(of accounts: [DevnetAccount], devnet: Devnet) async throws -> [UInt64] {
        var out: [UInt64] = []
        for account in accounts { out.append(try await devnet.client.transactionCount(of: account.address, at: .latest)) }
        return out
    }
}
