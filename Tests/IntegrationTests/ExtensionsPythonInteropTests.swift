import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing
import X402
import X402EVM
import X402HTTP
import X402Hummingbird
import X402TestSupport

/// `sign-in-with-x` and `payment-identifier` against the official Python SDK (x402 2.25.0,
/// `Tools/interop` with `--siwx` / `--payment-identifier` / `--payment-id`) on the devnet: its SIWx
/// client signs in to a Swift seller, the Swift client signs in to its seller, and each side reads
/// the other's payment-identifier declaration.
@Suite("Extensions interop with the official Python SDK", .devnet, .serialized)
struct ExtensionsPythonInteropTests {
    typealias World = HummingbirdSellerIntegrationTests.World
    static let price: UInt256 = 10_000

    /// A Hummingbird seller: `GET /report` ($0.01, sign-in for an hour after payment, and
    /// payment-identifier declared) and the auth-only `GET /login`, on a port chosen first so the
    /// sign-in origin is known.
    struct SwiftSeller {
        let url: String
        let task: Task<Void, any Error>
        let facilitator: CountingFacilitator
        let hits: HitCounter
    }

    static func startSwiftSeller(_ w: World, paymentIdentifierRequired: Bool = false) async throws -> SwiftSeller {
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.registerExactEVM()
        let port = try freeLoopbackPort()
        let origin = "http://127.0.0.1:\(port)"
        let facilitator = CountingFacilitator(HTTPFacilitatorClient(baseURL: w.facilitator.url))
        let hits = HitCounter()
        let router = Router()
        router.add(
            middleware: try X402Middleware(
                configuration: .init(
                    routes: [
                        "GET /report": PaidRoute(
                            accepts: [.exact("$0.01", on: w.network, payTo: .fixed(w.payee.checksummed))], description: "Report",
                            extensions: [PaymentIdentifier.extensionKey: PaymentIdentifier.declaration(required: paymentIdentifierRequired)],
                            signIn: .afterPayment(period: .seconds(3600))),
                        "GET /login": .signInOnly(description: "Members"),
                    ],
                    facilitator: facilitator, schemes: schemes,
                    signInWithX: try SignInWithX.Server(origin: origin, verifiers: [EVMSignInVerifier()], chains: [w.network.identifier]))))
        router.get("report") { _, _ -> Response in
            await hits.hit()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"report":1}"#)))
        }
        router.get("login") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"member":true}"#)))
        }
        let (_, task) = await startServing { running in
            Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), onServerRunning: running)
        }
        return SwiftSeller(url: origin, task: task, facilitator: facilitator, hits: hits)
    }

    static func pythonClient(_ w: World, _ url: String, _ flags: [String]) async throws -> JSONValue {
        try await PythonService.run(
            "py_client.py", ["--key-env", "X402_EXT_PAYER_KEY", url] + flags,
            environment: ["X402_EXT_PAYER_KEY": w.payer.key.withUnsafeSecretBytes { Hex.encode($0) }])
    }

    @Test("the Python SDK's SIWx client signs in to the Swift seller: auth-only, and after paying once without the facilitator")
    func pythonSignsInToSwift() async throws {
        let w = try await World.make()
        defer { Task { await w.facilitator.stop() } }
        let seller = try await Self.startSwiftSeller(w)
        defer { seller.task.cancel() }

        // Auth-only: the SDK answers the challenge with its SIGN-IN-WITH-X header.
        let login = try await Self.pythonClient(w, seller.url + "/login", ["--siwx"])
        #expect(login["status"] == 200, "\(login)")
        #expect(login["body"]?["member"] == true)
        #expect(login["paymentPayload"] == .null)

        // The paid route: the first call's sign-in is refused (no payment yet), so the SDK pays.
        let first = try await Self.pythonClient(w, seller.url + "/report", ["--siwx"])
        #expect(first["status"] == 200, "\(first)")
        #expect(first["paymentPayload"] != .null)
        // The SDK echoed our payment-identifier declaration whole.
        #expect(first["paymentPayload"]?["extensions"]?[PaymentIdentifier.extensionKey]?["info"]?["required"] == false)
        try await w.expectMined(first["paymentResponse"]?["transaction"]?.stringValue)
        let calls = await seller.facilitator.calls

        // The second call signs in: served, nothing paid, the facilitator not called.
        let second = try await Self.pythonClient(w, seller.url + "/report", ["--siwx"])
        #expect(second["status"] == 200, "\(second)")
        #expect(second["paymentPayload"] == .null)
        #expect(await seller.facilitator.calls == calls)
        #expect(await seller.hits.count == 2)
        #expect(try await w.devnet.usdcBalance(of: w.payee) == Self.price)
    }

    @Test("the Swift client signs in to the Python SDK's seller after paying once, and to its auth-only route")
    func swiftSignsInToPython() async throws {
        let w = try await World.make()
        defer { Task { await w.facilitator.stop() } }
        let port = try freeLoopbackPort()
        let server = try await PythonService.start(
            "py_server.py",
            [
                "--port", String(port), "--facilitator-url", w.facilitator.url, "--pay-to", w.payee.checksummed, "--network", w.network.identifier,
                "--siwx-origin", "http://127.0.0.1:\(port)", "--payment-identifier", "required",
            ])
        do {
            let base = "http://127.0.0.1:\(port)"
            var schemes = SchemeRegistry<any SchemeClient>()
            schemes.registerExactEVM(ExactEVMClient(signer: w.payer.key))
            let client = PayingHTTPClient(
                payer: Payer(schemes: schemes, wallet: w.payer.address.checksummed),
                options: PayingClientOptions(signIn: EVMSignInSigner(key: w.payer.key)))

            let login = try await client.execute(HTTPClientRequest(url: base + "/login"))
            #expect(login.status == 200, "\(String(decoding: login.body, as: UTF8.self)) \(server.logTail)")
            guard case .signedIn = login.payment else {
                Issue.record("not signed in: \(login.payment) \(server.logTail)")
                throw CancellationError()
            }

            // Paid once (the SDK requires a payment-identifier id: the Swift client sends one).
            let paid = try await client.execute(HTTPClientRequest(url: base + "/weather"))
            #expect(paid.status == 200, "\(String(decoding: paid.body, as: UTF8.self)) \(server.logTail)")
            guard case .paid(let receipt) = paid.payment else {
                Issue.record("not paid: \(paid.payment) \(server.logTail)")
                throw CancellationError()
            }
            let id = try #require(try PaymentIdentifier.id(in: receipt.payload))
            #expect(id.hasPrefix("pay_"))
            try await w.expectMined(receipt.settlement?.transaction)

            // Then signed in: nothing paid.
            let again = try await client.execute(HTTPClientRequest(url: base + "/weather"))
            #expect(again.status == 200, "\(server.logTail)")
            guard case .signedIn(let signIn) = again.payment else {
                Issue.record("not signed in: \(again.payment) \(server.logTail)")
                throw CancellationError()
            }
            #expect(signIn.address == w.payer.address.checksummed)
            #expect(try await w.devnet.usdcBalance(of: w.payee) == Self.price)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test("the Python SDK sends a payment-identifier id to the Swift seller; the same id with a new payment is a conflict")
    func pythonPaymentIdentifierOnSwift() async throws {
        let w = try await World.make()
        defer { Task { await w.facilitator.stop() } }
        let seller = try await Self.startSwiftSeller(w, paymentIdentifierRequired: true)
        defer { seller.task.cancel() }

        // Without an id the Swift seller refuses (the declaration says required).
        let missing = try await Self.pythonClient(w, seller.url + "/report", [])
        #expect(missing["status"] == 400, "\(missing)")

        let id = PaymentIdentifier.generate()
        let first = try await Self.pythonClient(w, seller.url + "/report", ["--payment-id", id])
        #expect(first["status"] == 200, "\(first)")
        #expect(first["paymentPayload"]?["extensions"]?[PaymentIdentifier.extensionKey]?["info"]?["id"] == .string(id))
        try await w.expectMined(first["paymentResponse"]?["transaction"]?.stringValue)

        // The SDK signs a new payment (new nonce) under the same id: a conflict, nothing settled.
        let conflict = try await Self.pythonClient(w, seller.url + "/report", ["--payment-id", id])
        #expect(conflict["status"] == 409, "\(conflict)")
        #expect(conflict["paymentRequired"]?["error"] == .string(ErrorReason.paymentIdentifierConflict.rawValue))
        #expect(await seller.hits.count == 1)
        #expect(try await w.devnet.usdcBalance(of: w.payee) == Self.price)
    }
}
