import Foundation
import Testing
import X402
import X402HTTP
import X402TestSupport

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
        let facilitator = ScriptedFacilitator.seller()
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
        let facilitator = ScriptedFacilitator.seller()
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
        let facilitator = ScriptedFacilitator.seller()
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
        let facilitator = ScriptedFacilitator.seller()
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
        let facilitator = ScriptedFacilitator.seller(settle: .failure(.transactionFailed, message: "reverted", network: "eip155:84532"))
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
        let facilitator = ScriptedFacilitator.seller()
        try await withGateway(facilitator: facilitator) { gateway, _ in
            let (response, _) = try await pay(gateway + "/api/stream")
            #expect(response.status == 200)
            #expect(response.body == "chunk0;chunk1;chunk2;chunk3;chunk4;")
            #expect(response.header("PAYMENT-RESPONSE") != nil)
        }
        #expect(await facilitator.settles == 1)
    }

    @Test func freeRoutesPassThroughUntouched() async throws {
        let facilitator = ScriptedFacilitator.seller()
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
            // The client is not a trusted proxy: its X-Forwarded-For is replaced (see forwardingHeaders…).
            #expect(seen.first?.headers["x-forwarded-for"] == "127.0.0.1")
            #expect(seen.last?.body == "hello world")
        }
        #expect(await facilitator.verifies == 0)
    }

    @Test func readyLineNamesTheURLUpstreamAndRoutes() throws {
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.register(USDCServer(), networks: NetworkPattern(namespace: "eip155"))
        let gateway = try Gateway(
            configuration: try gatewayConfiguration(upstream: "http://127.0.0.1:8080"), schemes: schemes, facilitator: ScriptedFacilitator.seller())
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
        #expect(try c.stateLocation() == .sqlite(path: "/tmp/gateway.sqlite"))
        #expect(c.routes.count == 3)
        #expect(c.routes[0] == .init(route: "GET /api/*", price: "$0.01"))
        #expect(c.routes[1].settleBefore == true && c.routes[1].network == .base)
        let upstream = try c.upstreamURL()
        #expect(upstream.url(path: "/api/x", query: "q=1") == "http://127.0.0.1:8080/base/api/x?q=1")

        let table = try c.routeTable()
        let report = try #require(table.match(method: "POST", path: "/api/report"))
        #expect(report.route.settlement == .beforeHandler)
        #expect(report.route.accepts[0].network == .base)
        guard case .fixed(let recipient) = report.route.accepts[0].payTo else {
            Issue.record("payTo")
            return
        }
        #expect(recipient == "0x857b06519E91e3A54538791bDbb0E22373e36b66")
        let token = try #require(table.match(method: "GET", path: "/token/7"))
        guard case .price(.tokenAmount(let amount, let asset, let extra)) = token.route.accepts[0].price else {
            Issue.record("price")
            return
        }
        #expect(amount == UInt256(1234) && asset == "0x036CbD53842c5426634e7929541eC2318f3dCF7e" && extra?["version"] == "2")
        #expect(table.match(method: "GET", path: "/other") == nil)
    }

    @Test func routeSpecsFromTheCommandLine() throws {
        #expect(try GatewayConfiguration.Route(spec: "GET /api/*=$0.01") == .init(route: "GET /api/*", price: "$0.01"))
        #expect(try GatewayConfiguration.Route(spec: " * /v1/[model] = $1.50 ") == .init(route: "* /v1/[model]", price: "$1.50"))
        #expect(throws: GatewayConfigurationError.self) { try GatewayConfiguration.Route(spec: "GET /api/*") }
        #expect(throws: GatewayConfigurationError.self) { try GatewayConfiguration.Route(spec: "GET /api/*=") }
    }

    static let valid =
        #"{"upstream":"http://127.0.0.1:8080","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","network":"eip155:84532","facilitator":"http://127.0.0.1:4020","routes":["GET /a=$0.01"]"#

    @Test(arguments: [
        ("not json", "not JSON"),
        ("[1]", "top level"),
        (valid + #","prot":1}"#, "unknown member \"prot\""),
        (
            valid.replacingOccurrences(of: #""GET /a=$0.01""#, with: #"{"route":"GET /a","price":"$0.01","settle":true}"#) + "}",
            "unknown member \"routes[0].settle\""
        ),
        (valid + #","upstreamTimeoutSecond":5}"#, "unknown member \"upstreamTimeoutSecond\""),
        // A network is a CAIP-2 identifier, checked when the file is read.
        (valid.replacingOccurrences(of: "eip155:84532", with: "base") + "}", "network: not a CAIP-2 network identifier: base"),
        (
            valid.replacingOccurrences(of: #""GET /a=$0.01""#, with: #"{"route":"GET /a","price":"$0.01","network":"base"}"#) + "}",
            "routes[0].network"
        ),
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
        ("price", "ten dollars", "invalid price"),
        ("price", "-$1", "invalid price"),
        ("route", "GET api", "route 'GET api'"),
        ("state", "redis://x", "state"),
        ("state", "sqlite:", "state"),
        ("state", "memroy:", "state"),
        ("port", "70000", "port"),
        ("asset-price", "$0.01", "atomic units"),
        ("routes", "", "routes"),
    ])
    func invalidValuesAreRejected(field: String, value: String, reason: String) throws {
        var c = GatewayConfiguration()
        c.upstream = "http://127.0.0.1:8080"
        c.payTo = payTo
        c.network = .baseSepolia
        c.facilitator = "http://127.0.0.1:4020"
        c.routes = [.init(route: "GET /a", price: "$0.01")]
        switch field {
        case "upstream": c.upstream = value
        case "facilitator": c.facilitator = value
        case "payTo": c.payTo = value
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

    @Test("a Solana route needs a base58 32-byte recipient; the route prices in the network's USDC")
    func solanaRoutes() throws {
        var c = GatewayConfiguration()
        c.upstream = "http://127.0.0.1:8080"
        c.network = .solanaDevnet
        c.facilitator = "http://127.0.0.1:4020"
        c.routes = [.init(route: "GET /a", price: "$0.01")]
        for good in ["2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4", "11111111111111111111111111111111"] {
            c.payTo = good
            #expect(throws: Never.self) { try c.validate() }
            #expect(try c.routeTable().routes.count == 1)
        }
        // An EVM address, a 31-byte key, a 33-byte value, a non-base58 character, an empty-ish string.
        for bad in [
            payTo, "1111111111111111111111111111111", "2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4z", "0wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4",
            "JEKNVnkbo3jma5nREBBJCDoXFVeKkD56V3xKrvRmWxFF2",
        ] {
            c.payTo = bad
            #expect(throws: GatewayConfigurationError.self, "\(bad)") { try c.validate() }
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

    // MARK: - What is charged is what is served (F5, F10, F14)

    @Test func forwardingHeadersFromAnUntrustedClientAreReplaced() async throws {
        try await withGateway { gateway, log in
            let spoofed: [(String, String)] = [
                ("X-Forwarded-For", "10.0.0.1"), ("X-Forwarded-Host", "evil.example"), ("X-Forwarded-Proto", "https"),
                ("Forwarded", "for=1.2.3.4;host=evil.example;proto=https"), ("X-Real-IP", "1.2.3.4"), ("X-Forwarded-Port", "443"),
            ]
            #expect(try await fetch(gateway + "/free", headers: spoofed).status == 200)
            let seen = try #require(await log.requests.first)
            #expect(seen.headers["x-forwarded-for"] == "127.0.0.1")
            #expect(seen.headers["x-forwarded-host"]?.hasPrefix("127.0.0.1:") == true)
            #expect(seen.headers["x-forwarded-proto"] == "http")
            #expect(seen.headers["forwarded"] == nil && seen.headers["x-real-ip"] == nil && seen.headers["x-forwarded-port"] == nil)
        }
    }

    @Test func forwardingHeadersFromATrustedProxyArePassedOn() async throws {
        try await withGateway(trustedProxies: ["10.0.0.0/8", "127.0.0.0/8"]) { gateway, log in
            let headers: [(String, String)] = [
                ("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Host", "shop.example"), ("X-Forwarded-Proto", "https"),
                ("Forwarded", "for=203.0.113.9;proto=https"),
            ]
            #expect(try await fetch(gateway + "/free", headers: headers).status == 200)
            let seen = try #require(await log.requests.first)
            #expect(seen.headers["x-forwarded-for"] == "203.0.113.9, 127.0.0.1")
            #expect(seen.headers["x-forwarded-host"] == "shop.example")
            #expect(seen.headers["x-forwarded-proto"] == "https")
            #expect(seen.headers["forwarded"] == "for=203.0.113.9;proto=https")
        }
        // A trusted range that does not hold the peer is no trust at all.
        try await withGateway(trustedProxies: ["::1/128", "10.0.0.0/8"]) { gateway, log in
            let response = try await fetch(gateway + "/free", headers: [("X-Forwarded-Host", "shop.example")])
            #expect(response.status == 200)
            #expect(await log.requests.first?.headers["x-forwarded-host"]?.hasPrefix("127.0.0.1:") == true)
        }
    }

    @Test func trustedProxiesParseAsIPv4AndIPv6CIDRs() throws {
        #expect(try IPAddressRange("10.0.0.0/8").contains("10.200.3.4"))
        #expect(try !IPAddressRange("10.0.0.0/8").contains("11.0.0.1"))
        #expect(try IPAddressRange("10.0.0.0/8").contains("::ffff:10.0.0.1"))
        #expect(try IPAddressRange("192.168.1.7").contains("192.168.1.7"))
        #expect(try !IPAddressRange("192.168.1.7").contains("192.168.1.8"))
        #expect(try IPAddressRange("0.0.0.0/0").contains("8.8.8.8"))
        #expect(try !IPAddressRange("0.0.0.0/0").contains("2001:db8::1"))
        #expect(try IPAddressRange("2001:db8::/32").contains("2001:db8:ffff::1"))
        #expect(try !IPAddressRange("2001:db8::/32").contains("2001:db9::1"))
        #expect(try IPAddressRange("::1").contains("::1"))
        #expect(try IPAddressRange("[fe80::1]/64").contains("fe80::abcd%eth0"))
        #expect(try IPAddressRange("10.1.2.3/8").description == "10.0.0.0/8")
        for bad in [
            "10.0.0.0/33", "300.1.1.1", "10.0.0", "1.2.3.4/", "1.2.3.4/-1", "::1::2", "fe80::/129", "gggg::1", "abc", "", "1:2:3:4:5:6:7:8:9",
        ] {
            #expect(throws: GatewayConfigurationError.self, "\(bad)") { try IPAddressRange(bad) }
        }
        let json = #"{"upstream":"http://127.0.0.1:8080","trustedProxies":["10.0.0.0/8","::1/128"],"routes":["GET /x=$0.01"]}"#
        let parsed = try GatewayConfiguration.parse(Array(json.utf8))
        #expect(parsed.trustedProxies == ["10.0.0.0/8", "::1/128"])
        #expect(try parsed.trustedProxyRanges().count == 2)
        var c = try gatewayConfiguration(upstream: "http://127.0.0.1:8080")
        c.trustedProxies = ["10.0.0.0/99"]
        #expect {
            try c.validate()
        } throws: { error in
            guard case .invalidTrustedProxy(let text, _)? = error as? GatewayConfigurationError else { return false }
            return text == "10.0.0.0/99"
        }
    }

    @Test func headAndMethodOverridesArePricedAndOverridesNeverReachTheUpstream() async throws {
        let facilitator = ScriptedFacilitator.seller()
        try await withGateway(facilitator: facilitator) { gateway, log in
            let head = try await fetch(gateway + "/api/data", method: "HEAD")
            #expect(head.status == 402)
            #expect(head.header("PAYMENT-REQUIRED") != nil)
            let options = try await fetch(gateway + "/api/data", method: "OPTIONS")
            #expect(options.status == 204)
            #expect(await log.count == 0, "neither HEAD nor OPTIONS reaches the upstream unpaid")
            let overridden = try await fetch(
                gateway + "/free/upload", method: "POST",
                headers: [
                    ("X-HTTP-Method-Override", "GET"), ("X-HTTP-Method", "GET"), ("X-Method-Override", "GET"), ("X-Original-URL", "/api/data"),
                    ("X-Rewrite-URL", "/api/data"),
                ],
                body: "x")
            #expect(overridden.status == 202)
            let seen = try #require(await log.requests.first)
            for name in ["x-http-method-override", "x-http-method", "x-method-override", "x-original-url", "x-rewrite-url"] {
                #expect(seen.headers[name] == nil, "\(name) reached the upstream")
            }
        }
        #expect(await facilitator.verifies == 0)
    }

    @Test func theUpstreamGetsTheCanonicalPathThatWasCharged() async throws {
        let facilitator = ScriptedFacilitator.seller()
        try await withGateway(facilitator: facilitator) { gateway, log in
            let (response, _) = try await pay(gateway + "/api//%64ata?x=%2e%2e")
            #expect(response.status == 200)
            #expect(response.header("Cache-Control")?.contains("private") == true)
            let seen = try #require(await log.requests.first)
            #expect(seen.path == "/api/data")
            #expect(seen.query == "x=%2e%2e", "the query is passed unchanged")
            let refused = try await fetch(gateway + "/free/..%2Fapi%2Fdata")
            #expect(refused.status == 400)
            #expect(await log.count == 1)
        }
    }
}
