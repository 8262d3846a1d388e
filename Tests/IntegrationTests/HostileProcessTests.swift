import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import Testing
import X402
import X402EVM
import X402TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The built `x402 gateway` (in front of a tiny upstream) and `x402 facilitator serve` as real
/// processes, fed a few hundred hostile requests: malformed headers and bodies of every layer
/// (base64, JSON, message), the F1 number family, deep nesting, thousands of keys, oversized
/// values. Afterwards both processes must still run and answer, and the paid upstream route must
/// never have been served.
@Suite("hostile input against the gateway and facilitator processes", .devnet, .serialized)
struct HostileProcessTests {
    actor Hits {
        var paid = 0
        func add() { paid += 1 }
    }

    /// JSON texts that must be refused at some layer, never crash a process.
    static func hostileJSON() -> [String] {
        var texts: [String] = []
        for literal in ["1e9223372036854775807", "10e9223372036854775807", "0.1e-9223372036854775808", "-1e-9223372036854775808", "1e10001"] {
            texts.append(#"{"x402Version":\#(literal),"accepted":{},"payload":{}}"#)
            texts.append(#"{"x402Version":1,"scheme":"exact","network":"base-sepolia","payload":{"authorization":{"value":\#(literal)}}}"#)
            texts.append(
                #"{"x402Version":2,"accepted":{"scheme":"exact","network":"eip155:84532","amount":\#(literal),"maxTimeoutSeconds":\#(literal)},"payload":{}}"#
            )
        }
        texts.append(String(repeating: "[", count: 20_000))
        texts.append(String(repeating: #"{"a":"#, count: 5_000) + "1" + String(repeating: "}", count: 5_000))
        texts.append("{" + (0..<2_700).map { #""k\#($0)":0"# }.joined(separator: ",") + #","x402Version":2}"#)
        texts.append(#"{"x402Version":2,"x402Version":1}"#)
        texts.append("{\"x402Version\":2,\"payload\":\"\u{01}\"}")
        texts.append("not json at all")
        return texts
    }

    /// Facilitator bodies: the payload texts inside a request, and some whole-body attacks.
    static func hostileBodies() -> [[UInt8]] {
        var bodies = hostileJSON().map { Array(#"{"x402Version":2,"paymentPayload":\#($0),"paymentRequirements":{}}"#.utf8) }
        bodies += hostileJSON().map { Array($0.utf8) }
        bodies.append([UInt8](repeating: UInt8(ascii: "["), count: 70_000))  // over the 64 KiB body limit
        bodies.append([0xFF, 0xFE, 0x00, 0x7B])
        bodies.append([])
        return bodies
    }

    @Test("a few hundred hostile requests leave both processes alive and nothing paid served")
    func hostileRequests() async throws {
        let devnet = try await Devnet.shared()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("x402-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let facilitator = try await FacilitatorProcess(
            devnet: devnet, key: try await devnet.freshAccount().key, database: directory.appendingPathComponent("f.sqlite").path)

        let hits = Hits()
        let router = Hummingbird.Router()
        router.get("paid/data") { _, _ -> String in
            await hits.add()
            return "paid content"
        }
        router.get("health") { _, _ -> String in "ok" }
        let upstream = { (running: @escaping @Sendable (any Channel) async -> Void) in
            Hummingbird.Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: running)
        }

        try await serving(upstream) { upstreamPort in
            let gatewayPort = try freeLoopbackPort()
            let gatewayLog = directory.appendingPathComponent("gateway.log").path
            _ = FileManager.default.createFile(atPath: gatewayLog, contents: nil)
            let gateway = Process()
            gateway.executableURL = try x402Executable()
            gateway.arguments = [
                "gateway", "--upstream", "http://127.0.0.1:\(upstreamPort)", "--route", "GET /paid/*=$0.01",
                "--pay-to", devnet.payee.address.checksummed, "--network", devnet.network, "--facilitator", facilitator.url,
                "--port", "\(gatewayPort)",
            ]
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: gatewayLog))
            gateway.standardOutput = handle
            gateway.standardError = handle
            try gateway.run()
            defer {
                if gateway.isRunning { kill(gateway.processIdentifier, SIGKILL) }
            }
            let base = "http://127.0.0.1:\(gatewayPort)"
            func gatewayLogText() -> String { (try? String(contentsOfFile: gatewayLog, encoding: .utf8)).map { String($0.suffix(4000)) } ?? "" }
            var ready = false
            for _ in 0..<600 where !ready {
                try #require(gateway.isRunning, "gateway exited at start: \(gatewayLogText())")
                ready = (try? await Self.status(base + "/health")) == 200
                if !ready { try await Task.sleep(for: .milliseconds(100)) }
            }
            try #require(ready, "gateway did not forward /health: \(gatewayLogText())")

            var sent = 0
            var answers: [Int: Int] = [:]
            for text in Self.hostileJSON() + Self.hostileJSON().map({ " \($0)\n" }) {
                let encoded = Base64.encode(Array(text.utf8))
                for (name, value) in [
                    ("PAYMENT-SIGNATURE", encoded), ("X-PAYMENT", encoded), ("PAYMENT-SIGNATURE", text),
                    ("PAYMENT-SIGNATURE", encoded + "=="), ("X-PAYMENT", String(encoded.dropLast(3))),
                ] {
                    if let status = try? await Self.status(base + "/paid/data", headers: [(name, value)]) {
                        answers[status, default: 0] += 1
                        #expect(status != 200, "paid route served for \(name): \(text.prefix(80))")
                    }
                    sent += 1
                }
            }
            for body in Self.hostileBodies() {
                for path in ["/verify", "/settle"] {
                    if let status = try? await Self.status(facilitator.url + path, post: true, body: body) {
                        answers[status, default: 0] += 1
                        #expect(status >= 400, "facilitator accepted a hostile \(path) body")
                    }
                    sent += 1
                }
            }
            // Oversized header values (beyond the 32 KiB decode limit and the server's own).
            for size in [33 * 1024, 70 * 1024] {
                _ = try? await Self.status(base + "/paid/data", headers: [("PAYMENT-SIGNATURE", String(repeating: "A", count: size))])
                sent += 1
            }
            #expect(sent >= 300)
            // Almost every request got an HTTP answer (the client itself refuses a few header values).
            #expect(answers.values.reduce(0, +) >= 250, "answers: \(answers)")

            #expect(gateway.isRunning, "gateway died: \(gatewayLogText())")
            #expect(facilitator.process.isRunning, "facilitator died: \(facilitator.log())")
            #expect(try await Self.status(facilitator.url + "/health") == 200)
            #expect(try await Self.status(base + "/health") == 200)
            #expect(try await Self.status(base + "/paid/data") == 402)
            #expect(await hits.paid == 0, "the paid upstream route was served; answers: \(answers)")
        }
        await facilitator.stop()
    }

    static func status(
        _ url: String, post: Bool = false, headers: [(String, String)] = [], body: [UInt8]? = nil
    ) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        if post { request.method = .POST }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
        _ = try? await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }
}
