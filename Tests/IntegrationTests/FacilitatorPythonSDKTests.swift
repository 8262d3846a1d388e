import AsyncHTTPClient
import Foundation
import Testing
import X402
import X402EVM
import X402EVMRPC

#if canImport(Glibc)
import Glibc
#endif

/// The official Python SDK (`x402==2.25.0`) using the Swift facilitator binary on the devnet:
/// the SDK's seller verifies and settles through it, the SDK's buyer pays, the SDK's facilitator
/// client reads its `/supported`.
@Suite("Python SDK through the Swift facilitator", .devnet, .serialized)
struct FacilitatorPythonSDKTests {
    typealias HTTP = FacilitatorServiceIntegrationTests

    /// Runs a one-shot interop tool (or inline Python with `-c`) and parses its one JSON line.
    static func runPython(_ arguments: [String], stdin: JSONValue? = nil, environment: [String: String] = [:]) async throws -> JSONValue {
        // Blocking reads run on threads of their own, never on pool threads (see `firstLine(of:)`).
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JSONValue, any Error>) in
            Thread.detachNewThread {
                do {
                    let process = Process()
                    if arguments.first == "-c" {
                        process.executableURL = repositoryRoot.appendingPathComponent("Tools/interop/.venv/bin/python")
                    } else {
                        process.executableURL = repositoryRoot.appendingPathComponent("Tools/interop/run.sh")
                    }
                    process.arguments = arguments
                    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
                    let input = Pipe()
                    let output = Pipe()
                    let errors = Pipe()
                    process.standardInput = input
                    process.standardOutput = output
                    process.standardError = errors
                    try process.run()
                    if let stdin { input.fileHandleForWriting.write(Data(stdin.serialized())) }
                    try input.fileHandleForWriting.close()
                    let errorData = Box()
                    let group = DispatchGroup()
                    group.enter()
                    Thread.detachNewThread {
                        errorData.data = errors.fileHandleForReading.readDataToEndOfFile()
                        group.leave()
                    }
                    let data = output.fileHandleForReading.readDataToEndOfFile()
                    group.wait()
                    process.waitUntilExit()
                    guard process.terminationStatus == 0, let value = try? JSONValue(parsing: Array(data)) else {
                        throw DevnetError(
                            description:
                                "\(arguments.prefix(1)) exited \(process.terminationStatus): \(String(decoding: data, as: UTF8.self)) \(String(decoding: errorData.data.suffix(2000), as: UTF8.self))"
                        )
                    }
                    continuation.resume(returning: value)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    final class Box: @unchecked Sendable { var data = Data() }

    static func hex(_ key: PrivateKey) -> String { key.withUnsafeSecretBytes { Hex.encode($0) } }

    @Test("v2: SDK seller + SDK buyer pay through the Swift facilitator; balances move by the price; the tx is mined")
    func paidRequestV2() async throws {
        let devnet = try await Devnet.shared()
        async let facilitatorAccount = devnet.freshAccount()
        async let payerAccount = devnet.freshAccount(eth: .zero, usdc: 1_000_000)
        let facilitator = try await facilitatorAccount
        let payer = try await payerAccount
        let payee = devnet.randomAddress()
        let swift = try await FacilitatorProcess(devnet: devnet, key: facilitator.key, database: HTTP.temporaryDatabase())
        defer { Task { await swift.stop() } }

        // The SDK's seller fetches /supported from our facilitator at start-up and refuses to start without it.
        let seller = try await PythonService.start(
            "py_server.py", ["--port", "0", "--facilitator-url", swift.url, "--pay-to", payee.checksummed, "--price", "$0.01"])
        defer { Task { await seller.stop() } }
        let paidURL = try #require(seller.ready["paidUrl"]?.stringValue)

        let payerBefore = try await devnet.usdcBalance(of: payer.address)
        let result = try await Self.runPython(
            ["py_client.py", "--key-env", "X402_IT_PAYER_KEY", paidURL], environment: ["X402_IT_PAYER_KEY": Self.hex(payer.key)])
        #expect(result["status"] == 200, "\(result) \(swift.log())")
        #expect(result["body"]?["report"]?["weather"] == "sunny")
        let response = try #require(result["paymentResponse"])
        #expect(response["success"] == true && response["network"] == .string(devnet.network), "\(response)")
        #expect(response["payer"]?.stringValue?.lowercased() == payer.address.checksummed.lowercased())
        let hash = try Bytes32(hex: try #require(response["transaction"]?.stringValue))
        let receipt = try #require(try await devnet.client.transactionReceipt(hash))
        #expect(receipt.succeeded && receipt.from == facilitator.address)
        #expect(payerBefore - (try await devnet.usdcBalance(of: payer.address)) == 10_000)
        #expect(try await devnet.usdcBalance(of: payee) == 10_000)

        // The SDK's own HTTP facilitator client reads /supported from the Swift facilitator.
        let script = """
            import json, os
            from x402.http import FacilitatorConfig, HTTPFacilitatorClientSync
            s = HTTPFacilitatorClientSync(FacilitatorConfig(url=os.environ["X402_IT_FACILITATOR_URL"])).get_supported()
            print(json.dumps(s.model_dump(by_alias=True, exclude_none=True, mode="json")))
            """
        let supported = try await Self.runPython(["-c", script], environment: ["X402_IT_FACILITATOR_URL": swift.url])
        let kinds = try #require(supported["kinds"]?.arrayValue)
        #expect(kinds.contains { $0["x402Version"] == 2 && $0["scheme"] == "exact" && $0["network"] == .string(devnet.network) }, "\(supported)")
        #expect(kinds.contains { $0["x402Version"] == 1 && $0["network"] == "base-sepolia" }, "\(supported)")
        let signers = String(decoding: (supported["signers"] ?? .null).serialized(), as: UTF8.self).lowercased()
        #expect(signers.contains(facilitator.address.checksummed.lowercased()), "\(supported)")
        #expect(supported["extensions"]?.arrayValue?.contains("bazaar") == true)
    }

    @Test("v1: an SDK-signed X-PAYMENT payload is verified and settled by the Swift facilitator over HTTP (the SDK seller is v2-only)")
    func sdkSignedV1OverHTTP() async throws {
        let devnet = try await Devnet.shared()
        async let facilitatorAccount = devnet.freshAccount()
        async let payerAccount = devnet.freshAccount(eth: .zero, usdc: 1_000_000)
        let facilitator = try await facilitatorAccount
        let payer = try await payerAccount
        let payee = devnet.randomAddress()
        let swift = try await FacilitatorProcess(devnet: devnet, key: facilitator.key, database: HTTP.temporaryDatabase())
        defer { Task { await swift.stop() } }

        let v1 = PaymentRequirementsV1(
            scheme: "exact", network: "base-sepolia", maxAmountRequired: "2500", resource: "http://127.0.0.1/v1", description: "",
            mimeType: "application/json", payTo: payee.checksummed, maxTimeoutSeconds: 120, asset: devnet.token.checksummed,
            extra: ["name": "USDC", "version": "2"])
        let body = PaymentRequiredV1(error: "X-PAYMENT header is required", accepts: [v1])
        let envelope = try await Self.runPython(
            ["py_sign.py", "--key-env", "X402_IT_PAYER_KEY", "--envelope"], stdin: body.json, environment: ["X402_IT_PAYER_KEY": Self.hex(payer.key)])
        #expect(envelope["header"]?["name"] == "X-PAYMENT")
        let request: JSONValue = [
            "x402Version": 1, "paymentPayload": try #require(envelope["paymentPayload"]),
            "paymentRequirements": try #require(envelope["paymentRequirements"]),
        ]
        let (vs, verified) = try await HTTP.post(swift.url + "/verify", request.serialized())
        #expect(vs == 200 && verified["isValid"] == true, "\(verified)")
        let (ss, settled) = try await HTTP.post(swift.url + "/settle", request.serialized())
        #expect(ss == 200 && settled["success"] == true && settled["network"] == "base-sepolia", "\(settled)")
        let hash = try Bytes32(hex: try #require(settled["transaction"]?.stringValue))
        #expect(try await devnet.client.transactionReceipt(hash)?.succeeded == true)
        #expect(try await devnet.usdcBalance(of: payee) == 2500)
    }
}
