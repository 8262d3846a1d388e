import Foundation
import HTTPTypes
import Testing
import X402TestSupport

@testable import X402

@Suite("Resource server: unpaid requests")
struct ServerUnpaidTests {
    @Test func unprotectedRoutePassesThrough() async throws {
        let f = ScriptedFacilitator()
        let server = try makeServer(f)
        let counter = Counter()
        let r = try await server.respond(to: request(.get, "/free"), handler: contentHandler(counter))
        #expect(r.status == 200)
        #expect(await counter.value == 1)
        #expect(await f.verifyCalls.isEmpty)
        // Another method on a protected path is unprotected too.
        let post = try await server.respond(to: request(.post, "/weather"), handler: contentHandler(counter))
        #expect(post.status == 200)
    }

    @Test func noPaymentGets402WithHeaderAndEmptyBody() async throws {
        let f = ScriptedFacilitator()
        let server = try makeServer(f)
        let counter = Counter()
        let r = try await server.respond(to: request(.get, "/weather?city=Paris"), handler: contentHandler(counter))
        #expect(r.status == 402)
        #expect(r.bodyText == "{}")
        #expect(r.headers[HTTPField.Name("content-type")!] == "application/json")
        #expect(await counter.value == 0)
        let required = try paymentRequired(r)
        #expect(required.error == "Payment required")
        #expect(required.resource?.url == "http://api.example.com/weather?city=Paris")
        #expect(required.resource?.description == "Weather")
        #expect(required.accepts.count == 1)
        let offer = try #require(required.accepts.first)
        #expect(offer.scheme == "exact")
        #expect(offer.network == .baseSepolia)
        #expect(offer.amount == "10000")
        #expect(offer.asset == "0x036CbD53842c5426634e7929541eC2318f3dCF7e")
        #expect(offer.payTo == testPayTo)
        #expect(offer.maxTimeoutSeconds == 300)
        #expect(offer.extra?["name"] == "USDC")
        #expect(offer.extra?["version"] == "2")
    }

    @Test func undecodablePaymentIsTreatedAsNoPayment() async throws {
        let server = try makeServer(ScriptedFacilitator())
        for garbage in ["not base64!", Base64.encode(Array("{not json".utf8)), Base64.encode(Array("{\"x402Version\":2}".utf8))] {
            let r = await server.respond(
                to: request(headers: [.hostHeader: "h", .paymentSignature: garbage])
            ) { _ in ServerResponse(status: 200) }
            #expect(r.status == 402)
            #expect(try paymentRequired(r).error == "Payment required")
        }
    }

    @Test func requirementsAreDeterministicPerRequest() async throws {
        let server = try makeServer(ScriptedFacilitator())
        let a = try #require(try await server.requirements(for: request()))
        let b = try #require(try await server.requirements(for: request()))
        #expect(a == b)
    }

    @Test func browserGetsPaywallHTML() async throws {
        let routes: RouteTable = [
            "GET /weather": .exact("$0.25", on: .baseSepolia, payTo: .fixed(testPayTo), description: "Weather </script><b>&")
        ]
        let server = try makeServer(ScriptedFacilitator(), routes: routes)
        let r = await server.respond(
            to: request(headers: [
                .hostHeader: "h", .accept: "text/html,application/xhtml+xml", .userAgent: "Mozilla/5.0 (X11; Linux x86_64)",
            ])
        ) { _ in ServerResponse(status: 200) }
        #expect(r.status == 402)
        #expect(r.headers[.paymentRequired] == nil)
        #expect(r.headers[.contentType]?.hasPrefix("text/html") == true)
        let html = r.bodyText
        #expect(html.contains("$0.25"))
        #expect(html.contains("base-sepolia"))
        #expect(html.contains("eip155:84532"))
        #expect(html.contains(testPayTo))
        #expect(html.contains("eth_signTypedData_v4"))
        #expect(html.contains("PAYMENT-SIGNATURE"))
        #expect(html.contains("TransferWithAuthorization"))
        // The embedded JSON cannot close its script element.
        #expect(html.contains("\\u003C/script\\u003E\\u003Cb\\u003E\\u0026"))
        #expect(!html.contains("Weather </script>"))
        #expect(html.contains("Weather &lt;/script&gt;"))
    }

    @Test func nonBrowserWithHTMLAcceptStillGetsHeader() async throws {
        let server = try makeServer(ScriptedFacilitator())
        let r = await server.respond(to: request(headers: [.hostHeader: "h", .accept: "text/html", .userAgent: "curl/8"])) { _ in
            ServerResponse(status: 200)
        }
        #expect(r.headers[.paymentRequired] != nil)
    }

    @Test func dynamicPriceAndPayToFromRouteParameters() async throws {
        let routes: RouteTable = [
            "GET /shops/[shop]/items/:item": PaidRoute(accepts: [
                PaymentOption(
                    network: .baseSepolia,
                    price: .perRequest { req in .money(try Money(req.routeParameters["item"] == "gold" ? "2" : "0.5")) },
                    payTo: .perRequest { req in req.routeParameters["shop"] == "a" ? testPayTo : testPayer })
            ])
        ]
        let f = ScriptedFacilitator()
        let server = try makeServer(f, routes: routes)
        let gold = try #require(try await server.requirements(for: request(.get, "/shops/a/items/gold")))
        #expect(gold[0].amount == "2000000")
        #expect(gold[0].payTo == testPayTo)
        let tin = try #require(try await server.requirements(for: request(.get, "/SHOPS/b/items/tin/")))
        #expect(tin[0].amount == "500000")
        #expect(tin[0].payTo == testPayer)
        // The echo of a dynamic offer matches on the paid retry.
        let paid = try await paidRequest(server, path: "/shops/a/items/gold")
        let counter = Counter()
        let r = try await server.respond(to: paid, handler: contentHandler(counter))
        #expect(r.status == 200)
        #expect(await counter.value == 1)
    }

    @Test func invalidConfigurationIsRejected() throws {
        let f = ScriptedFacilitator()
        #expect(throws: RouteConfigurationError.self) {
            try makeServer(f, routes: ["GET /a": .exact("one dollar", on: .baseSepolia, payTo: "0x1")])
        }
        #expect(throws: RouteConfigurationError.self) {
            try makeServer(f, routes: ["GET a b c": .exact("$1", on: .baseSepolia, payTo: "0x1")])
        }
        #expect(throws: RouteConfigurationError.self) {
            try makeServer(f, routes: ["GET /a": .exact("$1", on: .solanaDevnet, payTo: "x")])
        }
        #expect(throws: RouteConfigurationError.self) {
            try makeServer(f, routes: ["GET /a": PaidRoute(accepts: [])])
        }
    }
}

@Suite("Resource server: paid requests")
struct ServerPaidTests {
    @Test func paidRequestRunsHandlerThenSettles() async throws {
        let f = ScriptedFacilitator()
        let server = try makeServer(f)
        let counter = Counter()
        let paid = try await paidRequest(server)
        let r = try await server.respond(to: paid, handler: contentHandler(counter, facilitator: f))
        #expect(r.status == 200)
        #expect(r.bodyText == paidContent)
        let settlement = try settleResponse(r)
        #expect(settlement.success)
        #expect(settlement.transaction == "0xfeed")
        #expect(await counter.value == 1)
        #expect(await f.events == ["verify", "handler", "settle"])
        let verify = try #require(await f.verifyCalls.first)
        // The facilitator gets the server's own requirement.
        #expect(verify.paymentRequirements == .v2(try #require(try await server.requirements(for: request())?.first)))
    }

    @Test func tamperedOfferIsNotMatched() async throws {
        let f = ScriptedFacilitator()
        let server = try makeServer(f)
        let counter = Counter()
        for tamper: @Sendable (inout PaymentRequirements) -> Void in [
            { $0.amount = "1" }, { $0.payTo = testPayer }, { $0.extra = nil }, { $0.maxTimeoutSeconds = 3600 },
        ] {
            let paid = try await paidRequest(server, tamper: tamper)
            let r = try await server.respond(to: paid, handler: contentHandler(counter))
            #expect(r.status == 402)
            #expect(try paymentRequired(r).error == "No matching payment requirements")
        }
        #expect(await counter.value == 0)
        #expect(await f.verifyCalls.isEmpty)
    }

    @Test func invalidPaymentGets402WithReason() async throws {
        let f = ScriptedFacilitator(verify: { _ in .success(.invalid(.exactEVMInsufficientBalance, payer: testPayer)) })
        let server = try makeServer(f)
        let counter = Counter()
        let r = try await server.respond(to: try await paidRequest(server), handler: contentHandler(counter))
        #expect(r.status == 402)
        #expect(try paymentRequired(r).error == "invalid_exact_evm_insufficient_balance")
        #expect(r.headers[.paymentResponse] == nil)
        #expect(await counter.value == 0)
        #expect(await f.settleCalls.isEmpty)
    }

    @Test func permit2AllowanceRequiredGets412() async throws {
        let f = ScriptedFacilitator(verify: { _ in .success(.invalid(.permit2AllowanceRequired)) })
        let server = try makeServer(f)
        let r = await server.respond(to: try await paidRequest(server)) { _ in ServerResponse(status: 200) }
        #expect(r.status == 412)
        #expect(try paymentRequired(r).error == "permit2_allowance_required")
    }

    @Test(arguments: [
        (FacilitatorClientError.unreachable("connection refused"), 503),
        (FacilitatorClientError.timeout, 503),
        (FacilitatorClientError.invalidResponse("not JSON"), 502),
        (FacilitatorClientError.httpStatus(500, bodyExcerpt: "oops"), 502),
    ])
    func verifyFaultIsAnsweredWithoutServing(_ fault: FacilitatorClientError, _ status: Int) async throws {
        let f = ScriptedFacilitator(verify: { _ in .failure(fault) })
        let server = try makeServer(f)
        let counter = Counter()
        let paid = try await paidRequest(server)
        let r = try await server.respond(to: paid, handler: contentHandler(counter))
        #expect(r.status.code == status)
        #expect(r.headers[.contentType] == "application/json")
        let body = try JSONValue(parsing: r.body)
        #expect(body["error"]?.stringValue?.contains("facilitator") == true)
        #expect(!r.bodyText.contains(paidContent))
        #expect(await counter.value == 0)
        #expect(await f.settleCalls.isEmpty)
        // Nothing was used: once the facilitator is back, the same payment goes through.
        await f.setVerify { _ in .success(.valid(payer: testPayer)) }
        let retry = try await server.respond(to: paid, handler: contentHandler(counter))
        #expect(retry.status == 200)
    }

    @Test func settlementFailureWithholdsHandlerOutput() async throws {
        let f = ScriptedFacilitator(settle: { r in
            .success(.failure(.transactionFailed, message: "reverted", network: "", payer: testPayer, transaction: "0xdead"))
        })
        let server = try makeServer(f)
        let counter = Counter()
        let r = try await server.respond(to: try await paidRequest(server), handler: contentHandler(counter))
        #expect(r.status == 402)
        #expect(r.bodyText == "{}")
        #expect(r.headers[.paymentRequired] == nil)
        let s = try settleResponse(r)
        #expect(!s.success)
        #expect(s.errorReason == .transactionFailed)
        #expect(s.network == "eip155:84532")
        #expect(await counter.value == 1)
    }

    // A settle call without an answer has an unknown outcome (the transfer may be on-chain): the
    // payment stays pending under its settlement id and the client is told to present it again
    // (402 with PAYMENT-RESPONSE `settlement_pending`). This used to answer 503/502 and mark the
    // payment failed, after which verify refused the retry (security review F6).
    @Test(arguments: [
        FacilitatorClientError.unreachable("reset"), .timeout, .invalidResponse("{\"success\":\"yes\"}"),
        .httpStatus(502, bodyExcerpt: "bad gateway"),
    ])
    func settlementFaultWithholdsHandlerOutput(_ fault: FacilitatorClientError) async throws {
        let f = ScriptedFacilitator(settle: { _ in .failure(fault) })
        let server = try makeServer(f)
        let r = try await server.respond(to: try await paidRequest(server), handler: contentHandler(Counter()))
        #expect(r.status == 402)
        #expect(!r.bodyText.contains(paidContent))
        let s = try settleResponse(r)
        #expect(!s.success && s.errorReason == .settlementPending)
    }

    @Test func handlerErrorStatusIsNotSettledAndPaymentStaysUsable() async throws {
        let f = ScriptedFacilitator()
        let server = try makeServer(f)
        let counter = Counter()
        let paid = try await paidRequest(server)
        let r = try await server.respond(to: paid, handler: contentHandler(counter, status: 500))
        #expect(r.status == 500)
        #expect(r.bodyText == paidContent)
        #expect(r.headers[.paymentResponse] == nil)
        #expect(await f.settleCalls.isEmpty)
        let again = try await server.respond(to: paid, handler: contentHandler(counter))
        #expect(again.status == 200)
        #expect(await f.settleCalls.count == 1)
    }

    @Test func throwingHandlerReleasesThePayment() async throws {
        struct Boom: Error {}
        let f = ScriptedFacilitator()
        let server = try makeServer(f)
        let paid = try await paidRequest(server)
        await #expect(throws: Boom.self) {
            _ = try await server.respond(to: paid) { _ in throw Boom() }
        }
        #expect(await f.settleCalls.isEmpty)
        let again = try await server.respond(to: paid, handler: contentHandler(Counter()))
        #expect(again.status == 200)
    }

    @Test func settleBeforeHandlerSettlesFirst() async throws {
        let f = ScriptedFacilitator()
        let server = try makeServer(f, settlement: .beforeHandler)
        let counter = Counter()
        let paid = try await paidRequest(server)
        guard case .proceed(let pending) = await server.decide(paid) else {
            Issue.record("expected proceed")
            return
        }
        #expect(pending.settled?.success == true)
        #expect(await f.events == ["verify", "settle"])
        guard case .release(let headers) = await server.complete(pending, handlerStatus: 200) else {
            Issue.record("expected release")
            return
        }
        #expect(headers[.paymentResponse] != nil)
        #expect(await counter.value == 0)
    }

    @Test func settleBeforeHandlerFailureNeverRunsHandler() async throws {
        let f = ScriptedFacilitator(settle: { _ in .success(.failure(.insufficientFunds, network: "eip155:84532")) })
        let server = try makeServer(f, settlement: .beforeHandler)
        let counter = Counter()
        let r = try await server.respond(to: try await paidRequest(server), handler: contentHandler(counter))
        #expect(r.status == 402)
        #expect(try settleResponse(r).errorReason == .insufficientFunds)
        #expect(await counter.value == 0)
    }

    @Test func replayOfSettledPaymentIsRejected() async throws {
        let f = ScriptedFacilitator()
        let server = try makeServer(f)
        let counter = Counter()
        let paid = try await paidRequest(server)
        #expect(try await server.respond(to: paid, handler: contentHandler(counter)).status == 200)
        let replay = try await server.respond(to: paid, handler: contentHandler(counter))
        #expect(replay.status == 402)
        #expect(try paymentRequired(replay).error == "payment_already_used")
        #expect(await counter.value == 1)
        #expect(await f.verifyCalls.count == 1)
    }

    @Test func concurrentReplayRunsTheHandlerOnce() async throws {
        let f = ScriptedFacilitator()
        await f.setYields(20)
        let store = InMemoryPaymentStateStore()
        // Two "instances" sharing one store.
        let a = try makeServer(f, store: store)
        let b = try makeServer(f, store: store)
        let counter = Counter()
        let paid = try await paidRequest(a)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<30 {
                let server = i % 2 == 0 ? a : b
                group.addTask { try await server.respond(to: paid, handler: contentHandler(counter)).status.code }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 200 }.count == 1)
        #expect(statuses.filter { $0 == 402 }.count == 29)
        #expect(await counter.value == 1)
        #expect(await f.settleCalls.count == 1)
    }

    @Test func failedSettlementCanBeRetriedWithTheSamePayment() async throws {
        let f = ScriptedFacilitator(settle: { _ in .success(.failure(.settlementPending, network: "eip155:84532")) })
        let server = try makeServer(f)
        let counter = Counter()
        let paid = try await paidRequest(server)
        #expect(try await server.respond(to: paid, handler: contentHandler(counter)).status == 402)
        await f.setSettle { r in .success(SettleResponse(success: true, transaction: "0x1", network: r.paymentRequirements.networkIdentifier)) }
        #expect(try await server.respond(to: paid, handler: contentHandler(counter)).status == 200)
        #expect(try await server.respond(to: paid, handler: contentHandler(counter)).status == 402)
    }

    /// Every facilitator answer other than a successful settlement keeps the content back.
    @Test func noBranchServesContentWithoutSettlement() async throws {
        let verifies: [Result<VerifyResponse, FacilitatorClientError>] = [
            .success(.valid(payer: testPayer)), .success(.invalid(.invalidPayload)), .failure(.timeout),
            .failure(.unreachable("x")), .failure(.invalidResponse("x")), .failure(.httpStatus(500, bodyExcerpt: "")),
        ]
        let settles: [Result<SettleResponse, FacilitatorClientError>] = [
            .success(SettleResponse(success: true, transaction: "0x1", network: "eip155:84532")),
            .success(.failure(.transactionFailed, network: "eip155:84532")), .failure(.timeout), .failure(.unreachable("x")),
            .failure(.invalidResponse("x")), .failure(.httpStatus(400, bodyExcerpt: "")),
        ]
        for timing in [SettlementTiming.afterHandler, .beforeHandler] {
            for (vi, v) in verifies.enumerated() {
                for (si, s) in settles.enumerated() {
                    let f = ScriptedFacilitator(verify: { _ in v }, settle: { _ in s })
                    let server = try makeServer(f, settlement: timing)
                    let r = try await server.respond(to: try await paidRequest(server), handler: contentHandler(Counter()))
                    let served = r.bodyText.contains(paidContent)
                    let shouldServe = vi == 0 && si == 0
                    #expect(served == shouldServe, "timing \(timing) verify #\(vi) settle #\(si) → \(r.status)")
                    if served { #expect(try settleResponse(r).success) }
                }
            }
        }
    }
}

@Suite("Resource server: protocol v1")
struct ServerV1Tests {
    func v1Payment(network: String = "base-sepolia", nonce: String = "0x02") -> PaymentPayloadV1 {
        PaymentPayloadV1(
            scheme: "exact", network: network,
            payload: ["signature": "0xab", "authorization": ["from": .string(testPayer), "nonce": .string(nonce)]])
    }

    @Test func v1ClientIsVerifiedWithV1Requirements() async throws {
        let f = ScriptedFacilitator()
        let server = try makeServer(f)
        let counter = Counter()
        let r = try await server.respond(
            to: request(headers: [.hostHeader: "api.example.com", .xPayment: v1Payment().headerValue]),
            handler: contentHandler(counter))
        #expect(r.status == 200)
        #expect(r.headers[.xPaymentResponse] != nil)
        #expect(r.headers[.paymentResponse] == nil)
        let call = try #require(await f.verifyCalls.first)
        guard case .v1(let req) = call.paymentRequirements else {
            Issue.record("expected v1 requirements")
            return
        }
        #expect(req.network == "base-sepolia")
        #expect(req.maxAmountRequired == "10000")
        #expect(req.resource == "http://api.example.com/weather")
    }

    @Test func legacySellerAnswersUnpaidRequestsWithV1Body() async throws {
        var server = try makeServer(ScriptedFacilitator())
        server.unpaidOfferVersion = .v1
        let r = await server.respond(to: request()) { _ in ServerResponse(status: 200) }
        #expect(r.status == 402)
        #expect(r.headers[.paymentRequired] == nil)
        let body = try PaymentRequiredV1(json: try JSONValue(parsing: r.body))
        #expect(body.error == "X-PAYMENT header is required")
        let offer = try #require(body.accepts.first)
        #expect(body.accepts.count == 1)
        #expect(offer.network == "base-sepolia")
        #expect(offer.maxAmountRequired == "10000")
        #expect(offer.payTo == testPayTo)

        // Without v1 support the setting cannot apply: the answer stays v2.
        var v2Only = try makeServer(ScriptedFacilitator())
        v2Only.unpaidOfferVersion = .v1
        v2Only.acceptsV1 = false
        let fallback = await v2Only.respond(to: request()) { _ in ServerResponse(status: 200) }
        #expect(fallback.status == 402)
        #expect(fallback.headers[.paymentRequired] != nil)
        #expect(fallback.bodyText == "{}")
    }

    @Test func v1FailuresAnswerWithV1Body() async throws {
        let f = ScriptedFacilitator(verify: { _ in .success(.invalid(.invalidPayload, payer: testPayer)) })
        let server = try makeServer(f)
        let r = await server.respond(to: request(headers: [.hostHeader: "h", .xPayment: v1Payment().headerValue])) { _ in
            ServerResponse(status: 200)
        }
        #expect(r.status == 402)
        let body = try PaymentRequiredV1(json: try JSONValue(parsing: r.body))
        #expect(body.error == "invalid_payload")
        #expect(body.accepts.count == 1)
        #expect(body.additionalMembers["payer"] == .string(testPayer))

        let wrong = await server.respond(
            to: request(headers: [.hostHeader: "h", .xPayment: v1Payment(network: "base").headerValue])
        ) { _ in ServerResponse(status: 200) }
        #expect(try PaymentRequiredV1(json: try JSONValue(parsing: wrong.body)).error == "Unable to find matching payment requirements")

        let garbage = await server.respond(to: request(headers: [.hostHeader: "h", .xPayment: "%%%"])) { _ in
            ServerResponse(status: 200)
        }
        #expect(garbage.status == 402)
        #expect(try PaymentRequiredV1(json: try JSONValue(parsing: garbage.body)).error?.hasPrefix("Invalid X-PAYMENT") == true)
    }

    @Test func v1SettlementFailure() async throws {
        let f = ScriptedFacilitator(settle: { _ in .success(.failure(.transactionFailed, network: "base-sepolia")) })
        let server = try makeServer(f)
        let r = try await server.respond(
            to: request(headers: [.hostHeader: "h", .xPayment: v1Payment().headerValue]), handler: contentHandler(Counter()))
        #expect(r.status == 402)
        #expect(!r.bodyText.contains(paidContent))
        #expect(try PaymentRequiredV1(json: try JSONValue(parsing: r.body)).error == "transaction_failed")
        #expect(try settleResponse(r, header: .xPaymentResponse).success == false)
    }
}

@Suite("Resource server: hooks")
struct ServerHookTests {
    @Test func beforeVerifyCanAbortOrGrant() async throws {
        let f = ScriptedFacilitator()
        let abort = try makeServer(f, hooks: ServerHooks(beforeVerify: { _ in .abort(.json(403, ["error": "blocked"])) }))
        let counter = Counter()
        let r = try await abort.respond(to: try await paidRequest(abort), handler: contentHandler(counter))
        #expect(r.status == 403)
        #expect(await counter.value == 0)

        let grant = try makeServer(f, hooks: ServerHooks(beforeVerify: { _ in .grantAccess }))
        let g = try await grant.respond(to: try await paidRequest(grant), handler: contentHandler(counter))
        #expect(g.status == 200)
        #expect(await counter.value == 1)
        #expect(await f.verifyCalls.isEmpty)
    }

    @Test func afterVerifyAndBeforeSettleCanAbort() async throws {
        let f = ScriptedFacilitator()
        let counter = Counter()
        let afterVerify = try makeServer(f, hooks: ServerHooks(afterVerify: { _, v in v.payer == testPayer ? .abort(.json(403, [:])) : .proceed }))
        #expect(try await afterVerify.respond(to: try await paidRequest(afterVerify), handler: contentHandler(counter)).status == 403)
        #expect(await counter.value == 0)

        let beforeSettle = try makeServer(f, hooks: ServerHooks(beforeSettle: { _ in .abort(.json(409, [:])) }))
        let r = try await beforeSettle.respond(to: try await paidRequest(beforeSettle), handler: contentHandler(counter))
        #expect(r.status == 409)
        #expect(!r.bodyText.contains(paidContent))
        #expect(await f.settleCalls.isEmpty)
    }

    @Test func afterSettleAndOnFailureSeeOutcomes() async throws {
        actor Log {
            var entries: [String] = []
            func add(_ s: String) { entries.append(s) }
        }
        let log = Log()
        let hooks = ServerHooks(
            afterSettle: { attempt, s in
                await log.add("settled \(s.transaction) on \(attempt.route)")
                return .proceed
            },
            onFailure: { _, failure in
                await log.add("failure \(failure)")
                if case .verificationFailed = failure { return .respond(.json(402, ["error": "custom"])) }
                return .useDefault
            })
        let f = ScriptedFacilitator()
        let server = try makeServer(f, hooks: hooks)
        #expect(try await server.respond(to: try await paidRequest(server), handler: contentHandler(Counter())).status == 200)
        await f.setVerify { _ in .success(.invalid(.invalidPayload)) }
        let r = try await server.respond(to: try await paidRequest(server, nonce: "0x09"), handler: contentHandler(Counter()))
        #expect(r.bodyText == #"{"error":"custom"}"#)
        let entries = await log.entries
        #expect(entries.first == "settled 0xfeed on GET /weather")
        #expect(entries.count == 2)
    }
}

@Suite("Resource server: routes and state")
struct ServerRouteAndStateTests {
    @Test func routePatterns() throws {
        let exact = try RoutePattern("GET /weather")
        #expect(exact.match(method: "GET", path: "/weather") != nil)
        #expect(exact.match(method: "get", path: "/Weather/") != nil)
        #expect(exact.match(method: "GET", path: "//weather?x=1") != nil)
        #expect(exact.match(method: "GET", path: "/%77eather") != nil)
        #expect(exact.match(method: "POST", path: "/weather") == nil)
        #expect(exact.match(method: "GET", path: "/weather/x") == nil)

        let any = try RoutePattern("/api/*")
        #expect(any.match(method: "DELETE", path: "/api/a/b/c") != nil)
        #expect(any.match(method: "GET", path: "/api\\x") != nil)
        #expect(any.match(method: "GET", path: "/apix") == nil)

        let params = try RoutePattern("GET /users/[id]/files/:name")
        #expect(params.match(method: "GET", path: "/users/42/files/a%20b.txt") == ["id": "42", "name": "a b.txt"])
        #expect(params.match(method: "GET", path: "/users//files/x") == nil)

        let suffix = try RoutePattern("/reports/[id].json")
        #expect(suffix.match(method: "GET", path: "/reports/7.json") == ["id": "7"])
        #expect(try RoutePattern("* /x").match(method: "PUT", path: "/x") != nil)
    }

    @Test func firstMatchingRouteWins() async throws {
        let routes: RouteTable = [
            "GET /api/premium": .exact("$1", on: .baseSepolia, payTo: .fixed(testPayTo)),
            "/api/*": .exact("$0.001", on: .baseSepolia, payTo: .fixed(testPayTo)),
        ]
        let server = try makeServer(ScriptedFacilitator(), routes: routes)
        #expect(try await server.requirements(for: request(.get, "/api/premium"))?.first?.amount == "1000000")
        #expect(try await server.requirements(for: request(.get, "/api/other"))?.first?.amount == "1000")
        #expect(try await server.requirements(for: request(.get, "/other")) == nil)
    }

    @Test func identityIgnoresEncodingButNotNonce() {
        let offer = PaymentRequirements(scheme: "exact", network: .baseSepolia, amount: "1", asset: "0xa", payTo: "0xb")
        let a = PaymentIdentity(.v2(payment(for: offer, nonce: "0xAA")))
        var differentSignature = payment(for: offer, nonce: "0xaa")
        differentSignature.payload["signature"] = "0x99"
        #expect(a == PaymentIdentity(.v2(differentSignature)))
        #expect(a != PaymentIdentity(.v2(payment(for: offer, nonce: "0xab"))))
        #expect(a.key.count == 64)
    }

    @Test func sha256KnownAnswers() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func storeLifecycle() async throws {
        let store = InMemoryPaymentStateStore()
        let id = PaymentIdentity(key: "k")
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(await store.claim(id, lease: .seconds(60), now: now) == .claimed)
        guard case .rejected(let inFlight) = await store.claim(id, lease: .seconds(60), now: now) else {
            Issue.record("expected rejection")
            return
        }
        #expect(inFlight.phase == .presented)
        // An abandoned claim is taken over once its lease has run out.
        #expect(await store.claim(id, lease: .seconds(60), now: now.addingTimeInterval(61)) == .claimed)
        await store.update(id, to: .failed, payer: "0xp", transaction: nil, now: now)
        #expect(await store.claim(id, lease: .seconds(60), now: now) == .claimed)
        await store.update(id, to: .verified, payer: "0xp", transaction: nil, now: now)
        await store.update(id, to: .settled, payer: nil, transaction: "0xt", now: now)
        guard case .rejected(let settled) = await store.claim(id, lease: .seconds(60), now: now.addingTimeInterval(10_000)) else {
            Issue.record("expected rejection")
            return
        }
        #expect(settled.phase == .settled)
        #expect(settled.payer == "0xp")
        #expect(settled.transaction == "0xt")
        await store.release(id)
        #expect(await store.record(for: id) == nil)
    }

    @Test func corsExposesPaymentHeaders() async throws {
        var server = try makeServer(ScriptedFacilitator())
        server.exposesHeadersForCORS = true
        let r = await server.respond(to: request()) { _ in ServerResponse(status: 200) }
        #expect(r.headers[.accessControlExposeHeaders]?.contains("PAYMENT-REQUIRED") == true)
        let paid = try await server.respond(to: try await paidRequest(server), handler: contentHandler(Counter()))
        #expect(paid.headers[.accessControlExposeHeaders]?.contains("PAYMENT-RESPONSE") == true)
    }
}

/// A facilitator that settles only for the request owning the settlement, as the real one does:
/// the first settlement id it sees owns it; every other request gets a duplicate failure.
actor OwningFacilitator: FacilitatorClient {
    enum Mode: Sendable {
        case pending
        case fault(FacilitatorClientError)
        case confirmed
    }
    var mode: Mode
    private(set) var verifyCount = 0
    private(set) var settleIDs: [String?] = []
    private var owner: String?

    init(mode: Mode) { self.mode = mode }
    func setMode(_ mode: Mode) { self.mode = mode }

    func verify(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> VerifyResponse {
        verifyCount += 1
        // Like the real facilitator once the transfer is on-chain: the nonce is used.
        if owner != nil { return .invalid(.exactEVMNonceAlreadyUsed, payer: testPayer) }
        return .valid(payer: testPayer)
    }

    func settle(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> SettleResponse {
        let id = SettlementIdempotency.current
        settleIDs.append(id)
        let network = request.paymentRequirements.networkIdentifier
        if owner == nil { owner = id ?? "" }
        guard let id, id == owner else {
            return .failure(.exactEVMNonceAlreadyUsed, network: network, payer: testPayer, transaction: "0xabc")
        }
        switch mode {
        case .pending: return .failure(.settlementPending, message: "not mined yet", network: network, payer: testPayer, transaction: "0xabc")
        case .fault(let error): throw error
        case .confirmed: return SettleResponse(success: true, transaction: "0xabc", network: network, payer: testPayer)
        }
    }

    func supported() async throws(FacilitatorClientError) -> SupportedResponse {
        SupportedResponse(kinds: [SupportedKind(x402Version: .v2, scheme: "exact", network: "eip155:84532")])
    }
}

@Suite("Resource server: pending settlements (security review F6)")
struct ServerPendingSettlementTests {
    func server(_ facilitator: OwningFacilitator, settlement: SettlementTiming = .afterHandler) throws -> ResourceServer {
        try ResourceServer(
            configuration: .init(
                routes: ["GET /weather": .exact("$0.01", on: .baseSepolia, payTo: .fixed(testPayTo), description: "Weather", settlement: settlement)],
                facilitator: facilitator, schemes: testSchemes()))
    }

    func paid(_ server: ResourceServer) async throws -> ServerRequest {
        let unpaid = await server.respond(to: request()) { _ in ServerResponse(status: 200) }
        let required = try paymentRequired(unpaid)
        let accepted = try #require(required.accepts.first)
        let p = payment(for: accepted, nonce: "0x77", resource: required.resource)
        return request(.get, "/weather", headers: [.hostHeader: "api.example.com", .paymentSignature: p.headerValue])
    }

    @Test(arguments: [SettlementTiming.afterHandler, .beforeHandler])
    func pendingThenConfirmedReleasesOnce(_ timing: SettlementTiming) async throws {
        let f = OwningFacilitator(mode: .pending)
        let server = try server(f, settlement: timing)
        let counter = Counter()
        let paid = try await paid(server)

        // 1. Pending: 402 with PAYMENT-RESPONSE carrying settlement_pending and the hash; no content.
        let first = try await server.respond(to: paid, handler: contentHandler(counter))
        #expect(first.status == 402)
        #expect(!first.bodyText.contains(paidContent))
        let pending = try settleResponse(first)
        #expect(!pending.success && pending.errorReason == .settlementPending && pending.transaction == "0xabc")

        // 2. Still pending on the retry: the same answer, no verify (it would say the nonce is used).
        let second = try await server.respond(to: paid, handler: contentHandler(counter))
        #expect(second.status == 402)
        #expect(try settleResponse(second).errorReason == .settlementPending)

        // 3. Confirmed: the retry gets the content once.
        await f.setMode(.confirmed)
        let third = try await server.respond(to: paid, handler: contentHandler(counter))
        #expect(third.status == 200 && third.bodyText == paidContent)
        #expect(try settleResponse(third).success)
        let replay = try await server.respond(to: paid, handler: contentHandler(counter))
        #expect(replay.status == 402 && !replay.bodyText.contains(paidContent))

        #expect(await f.verifyCount == 1)
        let ids = await f.settleIDs
        #expect(ids.count == 3)
        #expect(ids.allSatisfy { $0 != nil && $0 == ids.first! })
    }

    @Test(arguments: [FacilitatorClientError.timeout, .unreachable("reset"), .httpStatus(502, bodyExcerpt: "bad gateway")])
    func lostSettleAnswerIsPendingAndResumed(_ fault: FacilitatorClientError) async throws {
        let f = OwningFacilitator(mode: .fault(fault))
        let server = try server(f)
        let counter = Counter()
        let paid = try await paid(server)
        let first = try await server.respond(to: paid, handler: contentHandler(counter))
        #expect(first.status == 402 && !first.bodyText.contains(paidContent))
        #expect(try settleResponse(first).errorReason == .settlementPending)
        await f.setMode(.confirmed)
        let second = try await server.respond(to: paid, handler: contentHandler(counter))
        #expect(second.status == 200 && second.bodyText == paidContent)
        #expect(await f.verifyCount == 1)
        let ids = await f.settleIDs
        #expect(ids.count == 2 && ids[0] != nil && ids[0] == ids[1])
    }

    @Test func v1PendingCarriesXPaymentResponse() async throws {
        let f = OwningFacilitator(mode: .pending)
        let server = try server(f)
        let unpaid = await server.respond(to: request()) { _ in ServerResponse(status: 200) }
        let accepted = try #require(try paymentRequired(unpaid).accepts.first)
        let v1 = PaymentPayloadV1(
            scheme: "exact", network: "base-sepolia",
            payload: [
                "signature": "0xabcdef",
                "authorization": [
                    "from": .string(testPayer), "to": .string(accepted.payTo), "value": .string(accepted.amount), "validAfter": "0",
                    "validBefore": "9999999999", "nonce": "0x78",
                ],
            ])
        let r = try await server.respond(
            to: request(headers: [.hostHeader: "h", .xPayment: v1.headerValue]), handler: contentHandler(Counter()))
        #expect(r.status == 402)
        let s = try settleResponse(r, header: .xPaymentResponse)
        #expect(!s.success && s.errorReason == .settlementPending && s.transaction == "0xabc")
    }
}
