import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import X402
import X402TestSupport

@testable import X402Hummingbird

actor Runs {
    private(set) var count = 0
    func add() { count += 1 }
}

func makeApp(_ facilitator: ScriptedFacilitator, runs: Runs, settlement: SettlementTiming = .afterHandler) throws -> some ApplicationProtocol {
    var schemes = SchemeRegistry<any SchemeServer>()
    schemes.register(USDCServer(), networks: NetworkPattern(namespace: "eip155"))
    let router = Router()
    router.add(
        middleware: try X402Middleware(
            configuration: .init(
                routes: [
                    "GET /weather": .exact("$0.01", on: .baseSepolia, payTo: .fixed(payTo), description: "Weather", settlement: settlement),
                    "GET /broken": .exact("$0.01", on: .baseSepolia, payTo: .fixed(payTo)),
                ],
                facilitator: facilitator, schemes: schemes)))
    router.get("weather") { _, _ in
        await runs.add()
        return "sunny"
    }
    router.get("broken") { _, _ -> Response in
        await runs.add()
        return Response(status: .serviceUnavailable, body: ResponseBody(byteBuffer: ByteBuffer(string: "try later")))
    }
    router.get("free") { _, _ in "free" }
    return Application(router: router)
}

func header(_ response: TestResponse, _ name: String) -> String? {
    response.headers.first { $0.name.rawName.lowercased() == name.lowercased() }?.value
}

func headers(_ pairs: [(String, String)]) -> HTTPFields {
    var fields = HTTPFields()
    for (name, value) in pairs { fields.append(HTTPFields.Element(name: HTTPFields.Element.Name(name)!, value: value)) }
    return fields
}

@Suite("Hummingbird middleware")
struct X402MiddlewareTests {
    @Test func unpaidRequestGets402() async throws {
        let runs = Runs()
        try await makeApp(ScriptedFacilitator.seller(), runs: runs).test(.router) { client in
            try await client.execute(uri: "/weather?city=Oslo", method: .get) { response in
                #expect(response.status.code == 402)
                #expect(String(buffer: response.body) == "{}")
                let required = try PaymentRequired(headerValue: try #require(header(response, "PAYMENT-REQUIRED")))
                #expect(required.error == "Payment required")
                #expect(required.accepts.first?.amount == "10000")
                #expect(required.resource?.url.hasSuffix("/weather?city=Oslo") == true)
            }
            try await client.execute(uri: "/free", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "free")
            }
        }
        #expect(await runs.count == 0)
    }

    @Test func paidRequestGetsContentAndPaymentResponse() async throws {
        let runs = Runs()
        let facilitator = ScriptedFacilitator.seller()
        try await makeApp(facilitator, runs: runs).test(.router) { client in
            let required = try await client.execute(uri: "/weather", method: .get) { try #require(header($0, "PAYMENT-REQUIRED")) }
            let paid = try signature(for: required)
            try await client.execute(uri: "/weather", method: .get, headers: headers([("PAYMENT-SIGNATURE", paid)])) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "sunny")
                let settlement = try SettleResponse(headerValue: try #require(header(response, "PAYMENT-RESPONSE")))
                #expect(settlement.success)
                #expect(settlement.transaction == "0xabc")
            }
            // The same payment again is a replay.
            try await client.execute(uri: "/weather", method: .get, headers: headers([("PAYMENT-SIGNATURE", paid)])) { response in
                let again = try PaymentRequired(headerValue: try #require(header(response, "PAYMENT-REQUIRED")))
                #expect(response.status.code == 402)
                #expect(again.error == "payment_already_used")
            }
        }
        #expect(await runs.count == 1)
        #expect(await facilitator.settles == 1)
    }

    @Test func settlementFailureWithholdsTheBody() async throws {
        let runs = Runs()
        let facilitator = ScriptedFacilitator.seller(settle: .failure(.transactionFailed, message: "reverted", network: "eip155:84532"))
        try await makeApp(facilitator, runs: runs).test(.router) { client in
            let required = try await client.execute(uri: "/weather", method: .get) { try #require(header($0, "PAYMENT-REQUIRED")) }
            try await client.execute(uri: "/weather", method: .get, headers: headers([("PAYMENT-SIGNATURE", try signature(for: required))])) {
                response in
                #expect(response.status.code == 402)
                #expect(String(buffer: response.body) == "{}")
                #expect(header(response, "PAYMENT-REQUIRED") == nil)
                let settlement = try SettleResponse(headerValue: try #require(header(response, "PAYMENT-RESPONSE")))
                #expect(!settlement.success)
                #expect(settlement.errorReason == .transactionFailed)
            }
        }
    }

    @Test func handlerErrorIsNotSettled() async throws {
        let runs = Runs()
        let facilitator = ScriptedFacilitator.seller()
        try await makeApp(facilitator, runs: runs).test(.router) { client in
            let required = try await client.execute(uri: "/broken", method: .get) { try #require(header($0, "PAYMENT-REQUIRED")) }
            try await client.execute(uri: "/broken", method: .get, headers: headers([("PAYMENT-SIGNATURE", try signature(for: required))])) {
                response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body) == "try later")
                #expect(header(response, "PAYMENT-RESPONSE") == nil)
            }
        }
        #expect(await runs.count == 1)
        #expect(await facilitator.settles == 0)
    }

    @Test func settleBeforeHandlerStreamsAfterSettling() async throws {
        let runs = Runs()
        let facilitator = ScriptedFacilitator.seller()
        try await makeApp(facilitator, runs: runs, settlement: .beforeHandler).test(.router) { client in
            let required = try await client.execute(uri: "/weather", method: .get) { try #require(header($0, "PAYMENT-REQUIRED")) }
            try await client.execute(uri: "/weather", method: .get, headers: headers([("PAYMENT-SIGNATURE", try signature(for: required))])) {
                response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "sunny")
                #expect(header(response, "PAYMENT-RESPONSE") != nil)
            }
        }
        #expect(await facilitator.settles == 1)
    }

    @Test func browserGetsThePaywall() async throws {
        try await makeApp(ScriptedFacilitator.seller(), runs: Runs()).test(.router) { client in
            let browser = headers([
                ("Accept", "text/html,application/xhtml+xml"), ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/126"),
            ])
            try await client.execute(uri: "/weather", method: .get, headers: browser) { response in
                #expect(response.status.code == 402)
                #expect(header(response, "PAYMENT-REQUIRED") == nil)
                #expect(header(response, "Content-Type")?.hasPrefix("text/html") == true)
                let html = String(buffer: response.body)
                #expect(html.contains("$0.01"))
                #expect(html.contains(payTo))
                #expect(html.contains("base-sepolia"))
                #expect(html.contains("eth_signTypedData_v4"))
            }
        }
    }
}
