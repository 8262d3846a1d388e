import Foundation
import Testing
import X402
import X402EVM
import X402EVMRPC

/// Wire compatibility with the official Python SDK (`x402==2.25.0`, `Tools/interop`) on the devnet:
/// payloads the SDK signs are verified and settled by the Swift facilitator, and payloads the
/// Swift client signs are verified and settled by the SDK's facilitator logic.
@Suite("Interop with the official Python SDK", .devnet)
struct PythonInteropTests {
    /// Runs an entry point of `Tools/interop` with JSON on stdin; the key travels in the environment.
    static func runPython(_ tool: String, _ arguments: [String], stdin: JSONValue, key: PrivateKey) async throws -> JSONValue {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let (status, output, log) = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<(Int32, Data, String), any Error>) in
            // Blocking reads on a thread of its own, never a pool thread (see `firstLine(of:)`).
            Thread.detachNewThread {
                do {
                    let process = Process()
                    process.executableURL = root.appendingPathComponent("Tools/interop/run.sh")
                    process.arguments = [tool] + arguments
                    var environment = ProcessInfo.processInfo.environment
                    environment["X402_INTEROP_TEST_KEY"] = key.withUnsafeSecretBytes { Hex.encode($0) }
                    process.environment = environment
                    let logURL = FileManager.default.temporaryDirectory.appendingPathComponent("x402-interop-\(UUID().uuidString).log")
                    _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
                    let logHandle = try FileHandle(forWritingTo: logURL)
                    let input = Pipe()
                    let output = Pipe()
                    process.standardInput = input
                    process.standardOutput = output
                    process.standardError = logHandle
                    try process.run()
                    input.fileHandleForWriting.write(Data(stdin.serialized()))
                    try input.fileHandleForWriting.close()
                    let data = output.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    try logHandle.close()
                    let log = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
                    try? FileManager.default.removeItem(at: logURL)
                    continuation.resume(returning: (process.terminationStatus, data, log))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        guard status == 0 else {
            Issue.record("\(tool) exited \(status): \(String(decoding: output, as: UTF8.self)) \(log.suffix(2000))")
            throw CancellationError()
        }
        return try JSONValue(parsing: Array(output))
    }

    struct Setup {
        let devnet: Devnet
        let payer: DevnetAccount
        let facilitatorAccount: DevnetAccount
        let payee: EthereumAddress
        let facilitator: ExactEVMFacilitator
        let requirements: PaymentRequirements

        static func make(amount: String) async throws -> Setup {
            let devnet = try await Devnet.shared()
            async let payer = devnet.freshAccount(eth: .zero, usdc: 1_000_000)
            async let facilitatorAccount = devnet.freshAccount()
            let network = try #require(Network(devnet.network))
            let account = try await facilitatorAccount
            let chain = EVMFacilitatorChain(network: network, client: devnet.client, signers: [account.key], receiptPollInterval: .milliseconds(50))
            let payee = devnet.randomAddress()
            // The Swift seller's side of the scheme prices the route.
            let priced = try ExactEVMServer().assetAmount(
                for: .tokenAmount(amount: UInt256(decimal: amount)!, asset: devnet.token.checksummed), on: network)
            let requirements = PaymentRequirements(
                scheme: "exact", network: network, amount: priced.amount.decimalString, asset: priced.asset, payTo: payee.checksummed,
                maxTimeoutSeconds: 900, extra: priced.extra)
            return Setup(
                devnet: devnet, payer: try await payer, facilitatorAccount: account, payee: payee,
                facilitator: ExactEVMFacilitator(chains: [chain]), requirements: requirements)
        }
    }

    @Test("a v2 payment signed by the Python SDK is matched, verified and settled by Swift")
    func pythonSignsSwiftSettles() async throws {
        let s = try await Setup.make(amount: "10000")
        let offered = PaymentRequired(
            error: "Payment required", resource: ResourceInfo(url: "http://127.0.0.1/weather", description: "", mimeType: "application/json"),
            accepts: [s.requirements])
        let signed = try await Self.runPython("py_sign.py", ["--key-env", "X402_INTEROP_TEST_KEY"], stdin: offered.json, key: s.payer.key)
        let payload = try AnyPaymentPayload(json: signed)
        // The SDK echoes our requirement exactly, so the server-side matching rule finds it.
        let accepted = try #require(RequirementsMatching.accepted(payload, in: [.v2(s.requirements)]))
        let verified = await s.facilitator.verify(payload, requirements: accepted)
        #expect(verified.isValid, "\(verified)")
        #expect(verified.payer == s.payer.address.checksummed)
        let settled = await s.facilitator.settle(payload, requirements: accepted)
        #expect(settled.success, "\(settled)")
        let receipt = try #require(try await s.devnet.client.transactionReceipt(try Bytes32(hex: settled.transaction)))
        #expect(receipt.succeeded)
        #expect(try await s.devnet.usdcBalance(of: s.payee) == 10000)
        #expect(try await s.devnet.usdcBalance(of: s.payer.address) == 990_000)
    }

    @Test("a v1 payment signed by the Python SDK is verified and settled by Swift")
    func pythonSignsV1() async throws {
        let s = try await Setup.make(amount: "2500")
        let v1 = PaymentRequirementsV1(
            scheme: "exact", network: "base-sepolia", maxAmountRequired: "2500", resource: "http://127.0.0.1/v1", description: "",
            mimeType: "application/json", payTo: s.payee.checksummed, maxTimeoutSeconds: 900, asset: s.devnet.token.checksummed,
            extra: ["name": "USDC", "version": "2"])
        let body = PaymentRequiredV1(error: "X-PAYMENT header is required", accepts: [v1])
        let signed = try await Self.runPython("py_sign.py", ["--key-env", "X402_INTEROP_TEST_KEY"], stdin: body.json, key: s.payer.key)
        let payload = try AnyPaymentPayload(json: signed)
        #expect(payload.version == .v1)
        let accepted = try #require(RequirementsMatching.accepted(payload, in: [.v1(v1)]))
        #expect(await s.facilitator.verify(payload, requirements: accepted).isValid)
        let settled = await s.facilitator.settle(payload, requirements: accepted)
        #expect(settled.success, "\(settled)")
        #expect(settled.network == "base-sepolia")
        #expect(try await s.devnet.usdcBalance(of: s.payee) == 2500)
    }

    @Test("a payment signed by the Swift client is verified and settled by the Python SDK's facilitator")
    func swiftSignsPythonSettles() async throws {
        let s = try await Setup.make(amount: "4321")
        let scheme = try await ExactEVMClient(signer: s.payer.key).createPayload(for: s.requirements, context: PaymentContext(version: .v2))
        let payload = PaymentPayload(resource: ResourceInfo(url: "http://127.0.0.1/weather"), accepted: s.requirements, payload: scheme.payload)
        let request: JSONValue = ["paymentPayload": payload.json, "paymentRequirements": s.requirements.json]
        let rpc = ["--rpc-url", s.devnet.url, "--key-env", "X402_INTEROP_TEST_KEY"]

        let verified = try VerifyResponse(
            json: try await Self.runPython("py_check.py", ["verify"] + rpc, stdin: request, key: s.facilitatorAccount.key))
        #expect(verified.isValid, "\(verified)")
        #expect(verified.payer?.lowercased() == s.payer.address.checksummed.lowercased())

        let settled = try SettleResponse(
            json: try await Self.runPython("py_check.py", ["settle"] + rpc, stdin: request, key: s.facilitatorAccount.key))
        #expect(settled.success, "\(settled)")
        let receipt = try #require(try await s.devnet.client.transactionReceipt(try Bytes32(hex: settled.transaction)))
        #expect(receipt.succeeded)
        #expect(try await s.devnet.usdcBalance(of: s.payee) == 4321)

        // The Python facilitator refuses the same authorization again, and so does Swift's.
        let replay = try VerifyResponse(
            json: try await Self.runPython("py_check.py", ["verify"] + rpc, stdin: request, key: s.facilitatorAccount.key))
        #expect(!replay.isValid)
        let swiftReplay = await s.facilitator.verify(.v2(payload), requirements: .v2(s.requirements))
        #expect(swiftReplay.invalidReason == .exactEVMNonceAlreadyUsed, "\(swiftReplay)")
    }

    @Test("a v1 payment signed by the Swift client is settled by the Python SDK's facilitator")
    func swiftSignsV1() async throws {
        let s = try await Setup.make(amount: "1500")
        let v1 = PaymentRequirementsV1(
            scheme: "exact", network: "base-sepolia", maxAmountRequired: "1500", resource: "http://127.0.0.1/v1", description: "",
            mimeType: "", payTo: s.payee.checksummed, maxTimeoutSeconds: 900, asset: s.devnet.token.checksummed,
            extra: ["name": "USDC", "version": "2"])
        let scheme = try await ExactEVMClient(signer: s.payer.key).createPayload(
            for: try #require(v1.normalized), context: PaymentContext(version: .v1))
        let payload = PaymentPayloadV1(scheme: "exact", network: "base-sepolia", payload: scheme.payload)
        let request: JSONValue = ["paymentPayload": payload.json, "paymentRequirements": v1.json]
        let settled = try SettleResponse(
            json: try await Self.runPython(
                "py_check.py", ["settle", "--rpc-url", s.devnet.url, "--key-env", "X402_INTEROP_TEST_KEY"], stdin: request,
                key: s.facilitatorAccount.key))
        #expect(settled.success, "\(settled)")
        #expect(try await s.devnet.usdcBalance(of: s.payee) == 1500)
    }
}
