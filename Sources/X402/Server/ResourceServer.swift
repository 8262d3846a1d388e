import Foundation
import HTTPTypes

/// What to do with a request, as decided by ``ResourceServer/decide(_:)``.
public enum RequestDecision: Sendable {
    /// The route is not protected (or a hook granted access): run the handler, send its response.
    case passThrough(ServerRequest)
    /// Send this response; do not run the handler.
    case respond(ServerResponse)
    /// The payment is verified (and, for settle-before routes, settled): run the handler with this
    /// request, then call ``ResourceServer/complete(_:handlerStatus:)`` before sending anything.
    case proceed(PendingPayment)
}

/// A verified payment whose handler is about to run.
public struct PendingPayment: Sendable {
    /// The request to hand to the route's handler (with route parameters filled in).
    public let request: ServerRequest
    public let attempt: PaymentAttempt
    /// When the payment is settled relative to the handler.
    public let settlement: SettlementTiming
    /// The settlement, already done for settle-before routes.
    public let settled: SettleResponse?
    let offered: [AnyPaymentRequirements]
    let paymentRequired: PaymentRequired?
    /// The settlement id of a resumed pending settlement (``PaymentClaim/resumed(_:)``); a new one
    /// is made for a first settlement.
    var settlementID: String? = nil
}

/// What to send once the handler has produced its status and headers.
public enum PaymentCompletion: Sendable {
    /// Send the handler's response, adding these headers (e.g. `PAYMENT-RESPONSE`).
    case release(addingHeaders: HTTPFields)
    /// Discard the handler's response (never send its body) and send this one.
    case replace(ServerResponse)
}

/// The transport-free x402 resource server: decides, for each request, whether it is protected,
/// what it costs, and whether its payment is good; settles; and never lets paid content out
/// without a successful settlement.
///
/// An adapter calls ``decide(_:)``; on ``RequestDecision/proceed(_:)`` it runs the handler
/// *without sending anything*, then calls ``complete(_:handlerStatus:)`` and either sends the
/// handler's response with the returned headers or the replacement. For settle-before routes the
/// settlement has already happened, so the adapter may stream the handler's body.
public struct ResourceServer: Sendable {
    public let routes: RouteTable
    public let facilitator: any FacilitatorClient
    public let schemes: SchemeRegistry<any SchemeServer>
    public let store: any PaymentStateStore
    public var hooks: ServerHooks
    public var paywall: Paywall
    /// Add `Access-Control-Expose-Headers` for the x402 headers to every x402 answer and release.
    public var exposesHeadersForCORS: Bool
    /// How long a request may hold a payment before another request may take it over.
    public var claimLease: Duration
    /// Offer v1 requirements (and accept `X-PAYMENT`) for clients that speak v1.
    public var acceptsV1: Bool
    /// The protocol of the 402 sent for an unpaid request: `.v2` (default) sends `PAYMENT-REQUIRED`;
    /// `.v1` makes a legacy seller that sends the v1 offer as the JSON body instead (needs ``acceptsV1``).
    public var unpaidOfferVersion: X402Version = .v2
    private let supportedCache: SupportedCache

    /// - Throws: ``RouteConfigurationError`` for an invalid route pattern or price, or an option
    ///   whose scheme has no registered ``SchemeServer``.
    public init(
        routes: RouteTable, facilitator: any FacilitatorClient, schemes: SchemeRegistry<any SchemeServer>,
        store: any PaymentStateStore = InMemoryPaymentStateStore(), hooks: ServerHooks = ServerHooks(), paywall: Paywall = Paywall(),
        exposesHeadersForCORS: Bool = false, claimLease: Duration = .seconds(600), acceptsV1: Bool = true
    ) throws(RouteConfigurationError) {
        try routes.validate()
        for (_, route) in routes.routes {
            for option in route.accepts where !schemes.supports(version: .v2, scheme: option.scheme, network: option.network) {
                throw .noSchemeServer(scheme: option.scheme, network: option.network.identifier)
            }
        }
        self.routes = routes
        self.facilitator = facilitator
        self.schemes = schemes
        self.store = store
        self.hooks = hooks
        self.paywall = paywall
        self.exposesHeadersForCORS = exposesHeadersForCORS
        self.claimLease = claimLease
        self.acceptsV1 = acceptsV1
        self.supportedCache = SupportedCache()
    }

    // MARK: - Deciding

    /// Decides what to do with a request before its handler runs.
    public func decide(_ incoming: ServerRequest) async -> RequestDecision {
        let pattern: RoutePattern, route: PaidRoute, parameters: [String: String]
        switch routes.resolve(incoming) {
        case .free: return .passThrough(incoming)
        case .refused(let refusal): return .respond(finish(refusal.response))
        case .preflight(let allow): return .respond(finish(RouteResolution.preflightResponse(allow: allow, request: incoming)))
        case .paid(let p, let r, let params): (pattern, route, parameters) = (p, r, params)
        }
        var request = incoming
        request.routeParameters = parameters

        // Which protocol the client speaks: a v1 client sends X-PAYMENT.
        let signature = request.headers.firstValue(for: .paymentSignature)
        let legacy = signature == nil ? request.headers.firstValue(for: .xPayment) : nil
        let speaksV1 = acceptsV1 && legacy != nil

        let requirements: [PaymentRequirements]
        do {
            requirements = try await buildRequirements(for: request, route: route)
        } catch {
            return await fail(request, .requirementsUnavailable(String(describing: error)), context: nil)
        }
        let required = PaymentRequired(
            error: "Payment required",
            resource: ResourceInfo(url: route.resource ?? request.url, description: route.description, mimeType: route.mimeType),
            accepts: requirements, extensions: route.extensions)
        let offeredV1 = requirements.compactMap { v1Requirement($0, resource: required.resource!, route: route) }

        // Read the payment.
        let payload: AnyPaymentPayload
        if speaksV1, let legacy {
            do {
                payload = try AnyPaymentPayload(headerValue: legacy)
            } catch {
                return .respond(v1Required(error: "Invalid X-PAYMENT header: \(error)", accepts: offeredV1))
            }
        } else if let signature, let decoded = try? AnyPaymentPayload(headerValue: signature) {
            payload = decoded
        } else {
            if request.isFromBrowser {
                let html = route.paywallHTML ?? paywall.html(for: required)
                return .respond(
                    finish(ServerResponse(status: .paymentRequired, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"], body: Array(html.utf8))))
            }
            if unpaidOfferVersion == .v1, acceptsV1, !offeredV1.isEmpty {
                return .respond(v1Required(error: "X-PAYMENT header is required", accepts: offeredV1))
            }
            return .respond(v2Required(required, status: .paymentRequired))
        }

        let offered: [AnyPaymentRequirements] = payload.version == .v1 ? offeredV1.map { .v1($0) } : requirements.map { .v2($0) }
        let context = FailureContext(version: payload.version, required: required, offeredV1: offeredV1)

        // Match the payment to an offer.
        guard let chosen = RequirementsMatching.accepted(payload, in: offered) else {
            return await fail(request, .noMatchingRequirements, context: context)
        }
        let attempt = PaymentAttempt(
            request: request, route: pattern.description, payload: payload, requirements: chosen, identity: PaymentIdentity(payload))

        if let hook = hooks.beforeVerify {
            switch await hook(attempt) {
            case .proceed: break
            case .abort(let response): return .respond(finish(response))
            case .grantAccess: return .passThrough(request)
            }
        }

        // Claim the payment so a replay, here or on another instance, is refused.
        do {
            switch try await store.claim(attempt.identity, lease: claimLease, now: Date()) {
            case .claimed: break
            case .resumed(let record):
                return await resumePending(
                    PendingPayment(
                        request: request, attempt: attempt, settlement: route.settlement, settled: nil, offered: offered,
                        paymentRequired: required, settlementID: record.settlementID),
                    context: context)
            case .rejected(let record): return await fail(request, .replayed(record), context: context)
            }
        } catch {
            return await fail(request, .storeUnavailable(error), context: context)
        }

        // Verify.
        let facilitatorRequest = FacilitatorRequest(paymentPayload: payload, paymentRequirements: chosen)
        let verification: VerifyResponse
        do {
            verification = try await facilitator.verify(facilitatorRequest)
        } catch {
            await releaseQuietly(attempt.identity)
            return await fail(request, .facilitatorFault(error), context: context)
        }
        guard verification.isValid else {
            await markQuietly(attempt.identity, .failed, payer: verification.payer)
            return await fail(request, .verificationFailed(verification), context: context)
        }
        await markQuietly(attempt.identity, .verified, payer: verification.payer)
        if let hook = hooks.afterVerify, case .abort(let response) = await hook(attempt, verification) {
            await releaseQuietly(attempt.identity)
            return .respond(finish(response))
        }

        var pending = PendingPayment(
            request: request, attempt: attempt, settlement: route.settlement, settled: nil, offered: offered,
            paymentRequired: required)
        if route.settlement == .beforeHandler {
            switch await settle(pending, context: context) {
            case .success(let settlement): pending = PendingPayment(
                request: request, attempt: attempt, settlement: route.settlement, settled: settlement, offered: offered,
                paymentRequired: required)
            case .failure(let response): return .respond(response)
            }
        }
        return .proceed(pending)
    }

    /// Finishes a paid request once the handler has answered with `handlerStatus` (its body not
    /// yet sent). Settles when the route settles after the handler and the status is below 400.
    public func complete(_ payment: PendingPayment, handlerStatus: HTTPResponse.Status) async -> PaymentCompletion {
        let context = FailureContext(
            version: payment.attempt.payload.version, required: payment.paymentRequired,
            offeredV1: payment.offered.compactMap { if case .v1(let r) = $0 { r } else { nil } })
        if let settled = payment.settled {
            return .release(addingHeaders: settlementHeaders(settled, version: context.version))
        }
        guard handlerStatus.code < 400 else {
            // The handler refused; the payment was not used and may be presented again.
            await releaseQuietly(payment.attempt.identity)
            return .release(addingHeaders: corsHeaders())
        }
        switch await settle(payment, context: context) {
        case .success(let settlement):
            return .release(addingHeaders: settlementHeaders(settlement, version: context.version))
        case .failure(let response):
            return .replace(response)
        }
    }

    /// Forgets a pending payment whose handler failed without answering (it may be presented again).
    /// Not needed after ``complete(_:handlerStatus:)``.
    public func abandon(_ payment: PendingPayment) async {
        if payment.settled == nil { await releaseQuietly(payment.attempt.identity) }
    }

    /// Runs the whole flow around `handler`, holding the handler's response until settlement.
    /// Convenient for adapters with buffered bodies and for tests.
    public func respond(
        to request: ServerRequest, handler: @Sendable (ServerRequest) async throws -> ServerResponse
    ) async rethrows -> ServerResponse {
        switch await decide(request) {
        case .respond(let response):
            return response
        case .passThrough(let request):
            return try await handler(request)
        case .proceed(let payment):
            let output: ServerResponse
            do {
                output = try await handler(payment.request)
            } catch {
                await abandon(payment)
                throw error
            }
            switch await complete(payment, handlerStatus: output.status) {
            case .replace(let response):
                return response
            case .release(let headers):
                var released = output
                released.headers.mergePaymentRelease(headers)
                return released
            }
        }
    }

    // MARK: - Settling

    private enum SettleOutcome {
        case success(SettleResponse)
        case failure(ServerResponse)
    }

    /// The client presented a payment whose settlement is pending: ask the facilitator again with
    /// the same settlement id, without verifying (the authorization may be used on-chain by now),
    /// and run the handler only once the settlement is confirmed.
    private func resumePending(_ payment: PendingPayment, context: FailureContext) async -> RequestDecision {
        switch await settle(payment, context: context) {
        case .success(let settlement):
            var settled = PendingPayment(
                request: payment.request, attempt: payment.attempt, settlement: payment.settlement, settled: settlement,
                offered: payment.offered, paymentRequired: payment.paymentRequired)
            settled.settlementID = payment.settlementID
            return .proceed(settled)
        case .failure(let response):
            return .respond(response)
        }
    }

    private func settle(_ payment: PendingPayment, context: FailureContext) async -> SettleOutcome {
        let attempt = payment.attempt
        let resuming = payment.settlementID != nil
        if let hook = hooks.beforeSettle, case .abort(let response) = await hook(attempt) {
            if resuming {
                await markQuietly(attempt.identity, .pending, payer: nil)
            } else {
                await releaseQuietly(attempt.identity)
            }
            return .failure(finish(response))
        }
        // One settlement id per settlement attempt, recorded before the facilitator is asked, so
        // that a retry after a lost answer or `settlement_pending` is recognised as its owner.
        let settlementID = payment.settlementID ?? SettlementIdempotency.newID()
        if !resuming {
            do {
                try await store.beginSettlement(attempt.identity, settlementID: settlementID, now: Date())
            } catch {
                await releaseQuietly(attempt.identity)
                return .failure(await failResponse(attempt.request, .storeUnavailable(error), context: context, duringSettlement: true))
            }
        }
        let request = FacilitatorRequest(paymentPayload: attempt.payload, paymentRequirements: attempt.requirements)
        let facilitator = self.facilitator
        let answer: Result<SettleResponse, FacilitatorClientError> = await SettlementIdempotency.$current.withValue(settlementID) {
            () async -> Result<SettleResponse, FacilitatorClientError> in
            do throws(FacilitatorClientError) { return .success(try await facilitator.settle(request)) } catch { return .failure(error) }
        }
        let settlement: SettleResponse
        switch answer {
        case .success(let response):
            settlement = response
        case .failure(let error):
            // The outcome is unknown: the settlement stays pending under its id. The client presents
            // the same payment again; the facilitator then answers for this settlement.
            await markQuietly(attempt.identity, .pending, payer: nil)
            let pending = SettleResponse.failure(
                .settlementPending, message: "the facilitator did not confirm the settlement (\(error)); present the same payment again",
                network: attempt.requirements.networkIdentifier)
            return .failure(await failResponse(attempt.request, .settlementFailed(pending), context: context, duringSettlement: true))
        }
        guard settlement.success else {
            if settlement.errorReason == .settlementPending {
                await markQuietly(
                    attempt.identity, .pending, payer: settlement.payer, transaction: settlement.transaction.isEmpty ? nil : settlement.transaction)
            } else {
                await markQuietly(attempt.identity, .failed, payer: settlement.payer)
            }
            return .failure(await failResponse(attempt.request, .settlementFailed(settlement), context: context, duringSettlement: true))
        }
        await markQuietly(attempt.identity, .settled, payer: settlement.payer, transaction: settlement.transaction)
        if let hook = hooks.afterSettle, case .abort(let response) = await hook(attempt, settlement) {
            var r = finish(response)
            for field in settlementHeaders(settlement, version: context.version) { r.headers[field.name] = field.value }
            return .failure(r)
        }
        return .success(settlement)
    }

    // MARK: - Requirements

    /// The v2 requirements the route offers for `request`, in the route's order.
    public func requirements(for request: ServerRequest) async throws -> [PaymentRequirements]? {
        guard case .paid(_, let route, let parameters) = routes.resolve(request) else { return nil }
        var request = request
        request.routeParameters = parameters
        return try await buildRequirements(for: request, route: route)
    }

    private func buildRequirements(for request: ServerRequest, route: PaidRoute) async throws -> [PaymentRequirements] {
        let supported = await supportedCache.value(from: facilitator)
        var result: [PaymentRequirements] = []
        for option in route.accepts {
            guard let scheme = schemes.implementation(version: .v2, scheme: option.scheme, network: option.network) else {
                throw RouteConfigurationError.noSchemeServer(scheme: option.scheme, network: option.network.identifier)
            }
            let price = try await option.price.resolve(for: request)
            let payTo = try await option.payTo.resolve(for: request)
            let amount = try scheme.assetAmount(for: price, on: option.network)
            var extra = amount.extra
            if let routeExtra = option.extra { extra = extra.merging(routeExtra) }
            let base = PaymentRequirements(
                scheme: option.scheme, network: option.network, amount: amount.amount.decimalString, asset: amount.asset,
                payTo: payTo, maxTimeoutSeconds: option.maxTimeoutSeconds, extra: extra)
            let kind = supported?.kind(version: .v2, scheme: option.scheme, network: option.network.identifier)
            result.append(try await scheme.enhance(base, supportedKind: kind, facilitatorExtensions: supported?.extensions ?? []))
        }
        return result
    }

    private func v1Requirement(_ r: PaymentRequirements, resource: ResourceInfo, route: PaidRoute) -> PaymentRequirementsV1? {
        guard acceptsV1, let name = r.network.legacyName else { return nil }
        return PaymentRequirementsV1(
            scheme: r.scheme, network: name, maxAmountRequired: r.amount, resource: resource.url, description: route.description,
            mimeType: route.mimeType, payTo: r.payTo, maxTimeoutSeconds: r.maxTimeoutSeconds ?? 300, asset: r.asset, extra: r.extra)
    }

    // MARK: - Failures

    struct FailureContext {
        var version: X402Version
        var required: PaymentRequired?
        var offeredV1: [PaymentRequirementsV1]
    }

    private func fail(_ request: ServerRequest, _ failure: PaymentFailure, context: FailureContext?) async -> RequestDecision {
        .respond(await failResponse(request, failure, context: context, duringSettlement: false))
    }

    private func failResponse(_ request: ServerRequest, _ failure: PaymentFailure, context: FailureContext?, duringSettlement: Bool) async
        -> ServerResponse
    {
        if let hook = hooks.onFailure, case .respond(let custom) = await hook(request, failure) {
            return finish(custom)
        }
        let version = context?.version ?? .v2
        func rejected(_ error: String, status: HTTPResponse.Status = .paymentRequired, extra: JSONObject = [:]) -> ServerResponse {
            if version == .v1 {
                return v1Required(error: error, accepts: context?.offeredV1 ?? [], additionalMembers: extra)
            }
            guard var required = context?.required else { return jsonError(.internalServerError, error) }
            required.error = error
            return v2Required(required, status: status)
        }
        switch failure {
        case .noMatchingRequirements:
            return rejected(version == .v1 ? "Unable to find matching payment requirements" : "No matching payment requirements")
        case .replayed(let record):
            return rejected(record.phase == .settled ? ErrorReason.paymentAlreadyUsed.rawValue : ErrorReason.paymentInProgress.rawValue)
        case .verificationFailed(let v):
            let reason = v.invalidReason?.rawValue ?? "invalid_payment"
            let status: HTTPResponse.Status = v.invalidReason == .permit2AllowanceRequired && version == .v2 ? .preconditionFailed : .paymentRequired
            var extra = JSONObject()
            if let payer = v.payer { extra["payer"] = .string(payer) }
            return rejected(reason, status: status, extra: extra)
        case .settlementFailed(var s):
            if s.network.isEmpty, let network = context?.required?.accepts.first?.network.identifier { s.network = network }
            if version == .v1 {
                var r = v1Required(error: s.errorReason?.rawValue ?? "settlement_failed", accepts: context?.offeredV1 ?? [])
                r.headers[.xPaymentResponse] = s.headerValue
                return r
            }
            return finish(
                ServerResponse.json(.paymentRequired, .object([:]), headers: [.paymentResponse: s.headerValue, .cacheControl: "no-store"]))
        case .facilitatorFault(let error):
            let status: HTTPResponse.Status
            let message: String
            switch error {
            case .unreachable, .timeout:
                status = .serviceUnavailable
                message = "The payment facilitator is unavailable; no payment was taken. Try again later."
            case .httpStatus, .invalidResponse:
                status = .badGateway
                message = "The payment facilitator sent an invalid answer; no payment was taken."
            }
            var headers: HTTPFields = [.cacheControl: "no-store"]
            if status == .serviceUnavailable { headers[.retryAfter] = "5" }
            var body: JSONObject = ["error": .string(message), "details": .string(error.description)]
            if duringSettlement {
                body["error"] = .string(
                    status == .serviceUnavailable
                        ? "The payment facilitator is unavailable; the payment was not settled and the resource was not served."
                        : "The payment facilitator sent an invalid answer; the payment was not settled and the resource was not served.")
            }
            return finish(ServerResponse.json(status, .object(body), headers: headers))
        case .storeUnavailable:
            return jsonError(.serviceUnavailable, "Payment state is unavailable; no payment was taken. Try again later.")
        case .requirementsUnavailable:
            return jsonError(.internalServerError, "The price of this resource could not be determined.")
        }
    }

    private func jsonError(_ status: HTTPResponse.Status, _ message: String) -> ServerResponse {
        finish(ServerResponse.json(status, ["error": .string(message)], headers: [.cacheControl: "no-store"]))
    }

    private func v2Required(_ required: PaymentRequired, status: HTTPResponse.Status) -> ServerResponse {
        finish(
            ServerResponse.json(
                status, .object([:]), headers: [.paymentRequired: required.headerValue, .cacheControl: "no-store"]))
    }

    private func v1Required(error: String, accepts: [PaymentRequirementsV1], additionalMembers: JSONObject = [:]) -> ServerResponse {
        let body = PaymentRequiredV1(error: error, accepts: accepts, additionalMembers: additionalMembers)
        return finish(ServerResponse.json(.paymentRequired, body.json, headers: [.cacheControl: "no-store"]))
    }

    private func settlementHeaders(_ settlement: SettleResponse, version: X402Version) -> HTTPFields {
        var headers = corsHeaders()
        headers[version == .v1 ? .xPaymentResponse : .paymentResponse] = settlement.headerValue
        // A paid response is for the payer only (merged with the handler's own by mergePaymentRelease).
        headers[.cacheControl] = "private"
        headers[.vary] = PaidResponseCaching.varyHeaders.joined(separator: ", ")
        return headers
    }

    private func corsHeaders() -> HTTPFields {
        guard exposesHeadersForCORS else { return [:] }
        return [
            .accessControlExposeHeaders: [
                PaymentHeaderName.paymentRequired, PaymentHeaderName.paymentResponse, PaymentHeaderName.xPaymentResponse,
            ].joined(separator: ", ")
        ]
    }

    private func finish(_ response: ServerResponse) -> ServerResponse {
        var r = response
        for field in corsHeaders() { r.headers[field.name] = field.value }
        return r
    }

    // MARK: - Store helpers

    private func releaseQuietly(_ identity: PaymentIdentity) async {
        try? await store.release(identity)
    }

    private func markQuietly(_ identity: PaymentIdentity, _ phase: PaymentPhase, payer: String?, transaction: String? = nil) async {
        try? await store.update(identity, to: phase, payer: payer, transaction: transaction, now: Date())
    }
}

/// The facilitator's `/supported` answer, fetched on first use and refreshed every ten minutes.
/// A failed fetch is retried on the next request; requirements are then built without it.
actor SupportedCache {
    private var cached: (response: SupportedResponse, at: ContinuousClock.Instant)?
    private let ttl: Duration = .seconds(600)

    func value(from facilitator: any FacilitatorClient) async -> SupportedResponse? {
        let now = ContinuousClock.now
        if let cached, now - cached.at < ttl { return cached.response }
        do {
            let response = try await facilitator.supported()
            cached = (response, now)
            return response
        } catch {
            return cached?.response
        }
    }
}
