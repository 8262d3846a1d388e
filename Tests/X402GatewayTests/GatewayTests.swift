import Foundation
import Testing
import X402

@testable import X402Gateway

@Suite("x402 gateway (paid reverse proxy)")
struct GatewayTests {
    @Test func unpaidRequestGets402WithTheRoutePriceAndNeverReachesTheUpstream() async throws {
        try await withGateway { gateway, log in
            let response = try await fetch(gateway + "/api/data?city=Oslo")
            #expect(response.status == 402)
            #expect(response.body == "{}")
            let required = try PaymentRequired(headerValue: try #require(response.header("PAYMENT-REQUIRED")))
            #expect(required.accepts.count == 1)
            #expect(required.accepts[0].amount == "10000")
            #expect(required.accepts[0].payTo == payTo)
            #expect(required.accepts[0].network.identifier == "eip155:84532")
            #expect(required.resource?.url.hasSuffix("/api/data?city=Oslo") == true)
            let echo = try await fetch(gateway + "/api/echo", method: "POST", body: "x")
            #expect(echo.status == 402)
            let echoHeader = try #require(echo.header("PAYMENT-REQUIRED"))
            #expect(try PaymentRequired(headerValue: echoHeader).accepts[0].amount == "20000")
            #expect(await log.count == 0)
        }
    }

    @Test func paidRequestGetsTheUpstreamAnswerWithPaymentResponse() async throws {
        let facilitator = ScriptedFacilitator()
        try await withGateway(facilitator: facilitator) { gateway, log in
            let (response, paid) = try await pay(gateway + "/api/data?city=Oslo&units=metric")
            #expect(response.status == 200)
            #expect(response.body == #"{"weather":"sunny","query":"city=Oslo&units=metric"}"#)
            #expect(response.header("X-Upstream") == "yes")
            #expect(response.header("Content-Type") == "application/json")
            #expect(response.header("X-Secret-Hop") == nil, "headers named in Connection are hop-by-hop")
            let settlement = try SettleResponse(headerValue: try #require(response.header("PAYMENT-RESPONSE")))
            #expect(settlement.success && settlement.transaction == "0xabc" && settlement.payer == payer)

            let seen = try #require(await log.requests.first)
            #expect(seen.path == "/api/data" && seen.query == "city=Oslo&units=metric")
            #expect(seen.headers["payment-signature"] == nil && seen.headers["x-payment"] == nil)
            #expect(seen.headers["x-forwarded-for"] == "127.0.0.1")
            #expect(seen.headers["x-forwarded-proto"] == "http")
            #expect(seen.headers["x-forwarded-host"]?.hasPrefix("127.0.0.1:") == true)

            // The same payment again is a replay and does not reach the upstream.
            let again = try await fetch(gateway + "/api/data", headers: [("PAYMENT-SIGNATURE", paid)])
            #expect(again.status == 402)
            let againHeader = try #require(again.header("PAYMENT-REQUIRED"))
            #expect(try PaymentRequired(headerValue: againHeader).error == "payment_already_used")
            #expect(await log.count == 1)
        }
        #expect(await facilitator.settles == 1)
    }

    @Test func paidPostForwardsTheRequestBody() async throws {
        let facilitator = ScriptedFacilitator()
        try await withGateway(facilitator: facilitator) { gateway, log in
            let payload = String(repeating: "0123456789", count: 5000)
            let (response, _) = try await pay(gateway + "/api/echo", method: "POST", body: payload)
            #expect(response.status == 201)
            #expect(response.body == "echo:" + payload)
            #expect(response.header("PAYMENT-RESPONSE") != nil)
            #expect(await log.requests.map(\.body) == [payload])
        }
        #expect(await facilitator.settles == 1)
    }

    @Test func upstreamErrorIsPassedThroughAndNotSettled() async throws {
        let facilitator = ScriptedFacilitator()
        try await withGateway(facilitator: facilitator) { gateway, log in
            let (response, _) = try await pay(gateway + "/api/fail")
            #expect(response.status == 500)
            #expect(response.body == "upstream broke")
            #expect(response.header("PAYMENT-RESPONSE") == nil)
            #expect(await log.count == 1)
        }
        #expect(await facilitator.verifies == 1)
        #expect(await facilitator.settles == 0)
    }

    @Test func upstreamDownGives502AndIsNotSettled() async throws {
        let facilitator = ScriptedFacilitator()
        // Port 9 (discard) on loopback: nothing listens there. AsyncHTTPClient retries a refused
        // connection until the deadline, so the 502 comes after upstreamTimeoutSeconds.
        try await withGateway(facilitator: facilitator, upstreamOverride: "http://127.0.0.1:9", upstreamTimeoutSeconds: 2) { gateway, _ in
            let (response, _) = try await pay(gateway + "/api/data")
            #expect(response.status == 502)
            #expect(response.body.contains("could not be reached"))
            #expect(response.header("PAYMENT-RESPONSE") == nil)
            let free = try await fetch(gateway + "/free")
            #expect(free.status == 502)
        }
        #expect(await facilitator.settles == 0)
    }

    @Test func settlementFailureWithholdsTheUpstreamBody() async throws {
        let facilitator = ScriptedFacilitator(settle: .failure(.transactionFailed, message: "reverted", network: "eip155:84532"))
        try await withGateway(facilitator: facilitator) { gateway, log in
            let (response, _) = try await pay(gateway + "/api/data")
            #expect(response.status == 402)
            #expect(response.body == "{}")
            #expect(!response.body.contains("sunny"))
            #expect(response.header("X-Upstream") == nil)
            let settlement = try SettleResponse(headerValue: try #require(response.header("PAYMENT-RESPONSE")))
            #expect(!settlement.success && settlement.errorReason == .transactionFailed)
            #expect(await log.count == 1)
        }
    }

    @Test func settleBeforeRouteStreamsTheUpstreamBody() async throws {
        let facilitator = ScriptedFacilitator()
        try await withGateway(facilitator: facilitator) { gateway, _ in
            let (response, _) = try await pay(gateway + "/api/stream")
            #expect(response.status == 200)
            #expect(response.body == "chunk0;chunk1;chunk2;chunk3;chunk4;")
            #expect(response.header("PAYMENT-RESPONSE") != nil)
        }
        #expect(await facilitator.settles == 1)
    }

    @Test func freeRoutesPassThroughUntouched() async throws {
        let facilitator = ScriptedFacilitator()
        try await withGateway(facilitator: facilitator) { gateway, log in
            let free = try await fetch(gateway + "/free?a=1&b=two", headers: [("X-Custom", "kept"), ("X-Forwarded-For", "10.0.0.1")])
            #expect(free.status == 200 && free.body == "free")
            #expect(free.header("PAYMENT-RESPONSE") == nil)
            let upload = try await fetch(gateway + "/free/upload", method: "POST", body: "hello world")
            #expect(upload.status == 202 && upload.body == "got 11 bytes")
            let missing = try await fetch(gateway + "/nowhere")
            #expect(missing.status == 404)
            let seen = await log.requests
            #expect(seen.count == 2)
            #expect(seen.first?.query == "a=1&b=two")
            #expect(seen.first?.headers["x-custom"] == "kept")
            #expect(seen.first?.headers["x-forwarded-for"] == "10.0.0.1, 127.0.0.1")
            #expect(seen.last?.body == "hello world")
        }
        #expect(await facilitator.verifies == 0)
    }

    @Test func readyLineNamesTheURLUpstreamAndRoutes() throws {
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.register(USDCServer(), networks: NetworkPattern(namespace: "eip155"))
        let gateway = try Gateway(configuration: try gatewayConfiguration(upstream: "http://127.0.0.1:8080"), schemes: schemes, facilitator: ScriptedFacilitator())
        let line = try JSONValue(parsing: gateway.readyLine(port: 4567))
        #expect(line["url"] == "http://127.0.0.1:4567")
        #expect(line["upstream"] == "http://127.0.0.1:8080")
        #expect(line["routes"]?.arrayValue?.first == "GET /api/data=$0.01")
    }
}

@Suite("gateway configuration")
struct GatewayConfigurationTests {
    @Test func parsesAFileWithStringAndObjectRoutes() throws {
        let text = """
            {
              "upstream": "http://127.0.0.1:8080/base/",
              "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
              "network": "eip155:84532",
              "facilitator": "https://x402.org/facilitator",
              "facilitatorAuthEnv": "X402_FACILITATOR_AUTH",
              "port": 0,
              "state": "sqlite:/tmp/gateway.sqlite",
              "routes": [
                "GET /api/*=$0.01",
                { "route": "POST /api/report", "price": "$0.10", "description": "A report", "settleBefore": true,
                  "network": "eip155:8453", "payTo": "0x857b06519E91e3A54538791bDbb0E22373e36b66" },
                { "route": "GET /token/[id]", "price": "1234", "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
                  "extra": { "name": "USDC", "version": "2" } }
              ]
            }
            """
        let c = try GatewayConfiguration.parse(Array(text.utf8))
        try c.validate()
        #expect(c.port == 0 && c.host == "127.0.0.1")
        #expect(try c.stateStoreKind() == .sqlite(path: "/tmp/gateway.sqlite"))
        #expect(c.routes.count == 3)
        #expect(c.routes[0] == .init(route: "GET /api/*", price: "$0.01"))
        #expect(c.routes[1].settleBefore == true && c.routes[1].network == "eip155:8453")
        let upstream = try c.upstreamURL()
        #expect(upstream.url(path: "/api/x", query: "q=1") == "http://127.0.0.1:8080/base/api/x?q=1")

        let table = try c.routeTable()
        let report = try #require(table.match(method: "POST", path: "/api/report"))
        #expect(report.route.settlement == .beforeHandler)
        #expect(report.route.accepts[0].network == .base)
        guard case .fixed(let recipient) = report.route.accepts[0].payTo else { Issue.record("payTo"); return }
        #expect(recipient == "0x857b06519E91e3A54538791bDbb0E22373e36b66")
        let token = try #require(table.match(method: "GET", path: "/token/7"))
        guard case .price(.tokenAmount(let amount, let asset, let extra)) = token.route.accepts[0].price else { Issue.record("price"); return }
        #expect(amount == UInt256(1234) && asset == "0x036CbD53842c5426634e7929541eC2318f3dCF7e" && extra?["version"] == "2")
        #expect(table.match(method: "GET", path: "/other") == nil)
    }

    @Test func routeSpecsFromTheCommandLine() throws {
        #expect(try GatewayConfiguration.Route(spec: "GET /api/*=$0.01") == .init(route: "GET /api/*", price: "$0.01"))
        #expect(try GatewayConfiguration.Route(spec: " * /v1/[model] = $1.50 ") == .init(route: "* /v1/[model]", price: "$1.50"))
        #expect(throws: GatewayConfigurationError.self) { try GatewayConfiguration.Route(spec: "GET /api/*") }
        #expect(throws: GatewayConfigurationError.self) { try GatewayConfiguration.Route(spec: "GET /api/*=") }
    }

    static let valid = #"{"upstream":"http://127.0.0.1:8080","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","network":"eip155:84532","facilitator":"http://127.0.0.1:4020","routes":["GET /a=$0.01"]"#

    @Test(arguments: [
        ("not json", "not JSON"),
        ("[1]", "top level"),
        (valid + #","prot":1}"#, "unknown member \"prot\""),
        (valid.replacingOccurrences(of: #""GET /a=$0.01""#, with: #"{"route":"GET /a","price":"$0.01","settle":true}"#) + "}", "routes[0]: unknown member \"settle\""),
        (valid + #","port":"80"}"#, "port"),
        (valid.replacingOccurrences(of: #""GET /a=$0.01""#, with: #"{"route":"GET /a"}"#) + "}", "price"),
        (valid.replacingOccurrences(of: #""GET /a=$0.01""#, with: #""GET /a""#) + "}", "METHOD /pattern=PRICE"),
    ])
    func badFilesAreRejectedWithTheReason(text: String, reason: String) throws {
        do {
            _ = try GatewayConfiguration.parse(Array(text.utf8))
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.description.contains(reason), "\(error)")
        }
    }

    @Test(arguments: [
        ("upstream", "ftp://example.com", "upstream"),
        ("upstream", "http://", "upstream"),
        ("facilitator", "", "facilitator"),
        ("payTo", "0x1234", "not an EVM address"),
        ("network", "base", "invalid network"),
        ("price", "ten dollars", "invalid price"),
        ("price", "-$1", "invalid price"),
        ("route", "GET api", "route 'GET api'"),
        ("state", "redis://x", "state"),
        ("port", "70000", "port"),
        ("asset-price", "$0.01", "atomic units"),
        ("routes", "", "routes"),
    ])
    func invalidValuesAreRejected(field: String, value: String, reason: String) throws {
        var c = GatewayConfiguration()
        c.upstream = "http://127.0.0.1:8080"
        c.payTo = payTo
        c.network = "eip155:84532"
        c.facilitator = "http://127.0.0.1:4020"
        c.routes = [.init(route: "GET /a", price: "$0.01")]
        switch field {
        case "upstream": c.upstream = value
        case "facilitator": c.facilitator = value
        case "payTo": c.payTo = value
        case "network": c.network = value
        case "price": c.routes[0].price = value
        case "route": c.routes[0].route = value
        case "state": c.state = value
        case "port": c.port = Int(value)!
        case "asset-price":
            c.routes[0].asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
            c.routes[0].price = value
        case "routes": c.routes = []
        default: Issue.record("unknown field \(field)")
        }
        #expect {
            try c.validate()
        } throws: { error in
            (error as? GatewayConfigurationError)?.description.contains(reason) == true
        }
    }

    @Test func facilitatorCredentialComesFromTheEnvironment() throws {
        #expect(Gateway.authenticationHeader("Bearer abc") == ("Authorization", "Bearer abc"))
        let custom = Gateway.authenticationHeader("X-Api-Key: s3cret ")
        #expect(custom.name == "X-Api-Key" && custom.value == "s3cret")
        var c = try gatewayConfiguration(upstream: "http://127.0.0.1:8080")
        c.facilitatorAuthEnv = "GATEWAY_TEST_FACILITATOR_AUTH"
        #expect(throws: GatewayConfigurationError.missingEnvironment("GATEWAY_TEST_FACILITATOR_AUTH")) {
            try Gateway.facilitatorClient(for: c, environment: [:])
        }
        let client = try Gateway.facilitatorClient(for: c, environment: ["GATEWAY_TEST_FACILITATOR_AUTH": "Bearer t"])
        #expect(client.configuration.baseURL == "http://127.0.0.1:9")
    }
}
