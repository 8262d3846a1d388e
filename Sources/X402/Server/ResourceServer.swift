import Foundation
import HTTPTypes

/// A verified payment whose handler is about to run.
public struct PendingPayment: Sendable {
    /// The request to hand to the route's handler (with route parameters filled in).
    public let request: ServerRequest
    /// The payment, its chosen requirement and identity.
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

    /// The terms the payment was made against.
    var offer: PaymentOffer? {
        paymentRequired.map { PaymentOffer(required: $0, requirementsV1: offered.compactMap { if case .v1(let r) = $0 { r } else { nil } }) }
    }
}

/// The terms a paid route offers for one request: the v2 `PaymentRequired` and the v1
/// requirements (empty when v1 is not accepted).
public struct PaymentOffer: Sendable {
    /// The v2 offer (`resource`, `accepts`, `extensions`).
    public var required: PaymentRequired {
        didSet { encodedRequired = nil }
    }
    /// ``required`` as a `PAYMENT-REQUIRED` header value, when it was encoded once for a fixed
    /// route (cleared whenever ``required`` changes).
    var encodedRequired: String? = nil

    init(required: PaymentRequired, requirementsV1: [PaymentRequirementsV1], paywallHTML: String? = nil, encodedRequired: String? = nil) {
        self.required = required
        self.requirementsV1 = requirementsV1
        self.paywallHTML = paywallHTML
        self.encodedRequired = encodedRequired
    }
    /// The same offers as v1 requirements, for clients that speak v1.
    public var requirementsV1: [PaymentRequirementsV1]
    /// The route's own paywall page, if it has one.
    public var paywallHTML: String? = nil
}

/// Why the payment lifecycle answers a request itself instead of running its handler: the
/// facts, without a transport. ``ResourceServer/decide(_:)`` turns them into an HTTP answer
/// (status, `PAYMENT-*` headers, body); another transport can answer them its own way.
public struct PaymentAnswer: Sendable {
    /// What happened.
    public enum Reason: Sendable {
        /// The request path is malformed, or ambiguous and could reach a paid route.
        case refusedPath(RequestPathError)
        /// An `OPTIONS` request on a paid path; these methods may be used on it.
        case preflight(allow: [String])
        /// The request carries no payment (or a `PAYMENT-SIGNATURE` that cannot be read).
        case paymentRequired
        /// A v1 `X-PAYMENT` header could not be read; the description says why.
        case unreadablePayment(String)
        /// The payment was refused, or could not be verified or settled.
        case failed(PaymentFailure, duringSettlement: Bool)
        /// A hook answered with this response. After a settlement, `settlement` is the
        /// settlement whose receipt still goes with the answer (the money has moved).
        case hookResponse(ServerResponse, settlement: SettleResponse?)
    }

    /// What happened.
    public var reason: Reason
    /// The request, with the matched route's parameters once a route is matched.
    public var request: ServerRequest
    /// The protocol version the client speaks (`.v2` until a v1 payment is read).
    public var version: X402Version
    /// The route's terms, once they are known.
    public var offer: PaymentOffer?
}

/// How the payment lifecycle judged a request before its handler runs.
public enum PaymentStep: Sendable {
    /// The route is not protected (or a hook granted access): run the handler.
    case free(ServerRequest)
    /// A wallet signed in (`sign-in-with-x`) instead of paying: run the handler; its answer is
    /// for that wallet only (nothing was paid or settled).
    case signedIn(ServerRequest, SignedInAccount)
    /// Do not run the handler; answer the request with this.
    case answer(PaymentAnswer)
    /// The payment is verified (and, for settle-before routes, settled): run the handler, then
    /// call ``ResourceServer/conclude(_:handlerSucceeded:)`` before releasing anything.
    case proceed(PendingPayment)
}

/// How a paid request ends once its handler has answered.
public enum PaymentConclusion: Sendable {
    /// The payment is settled: release the handler's answer with this receipt.
    case settled(SettleResponse)
    /// The handler refused; nothing was settled and the payment may be presented again.
    case unsettled
    /// The settlement failed or a hook stopped it: discard the handler's answer and send this.
    case answer(PaymentAnswer)
}

/// The transport-free x402 resource server: decides, for each request, whether it is protected,
/// what it costs, and whether its payment is good; settles; and never lets paid content out
/// without a successful settlement.
///
/// The payment lifecycle (``evaluate(_:)`` → run the handler → ``conclude(_:handlerSucceeded:)``)
/// knows nothing of a transport: it reports ``PaymentAnswer`` facts. The HTTP answer
/// (`ResourceServer+HTTP.swift`) turns them into status codes, `PAYMENT-*` headers, the v1 body
/// or v2 header, the paywall and CORS headers: an HTTP adapter calls ``decide(_:)``; on
/// ``RequestDecision/proceed(_:)`` it runs the handler *without sending anything*, then calls
/// ``complete(_:handlerStatus:)`` and either sends the handler's response with the returned
/// headers or the replacement. For settle-before routes the settlement has already happened, so
/// the adapter may stream the handler's body.
public struct ResourceServer: Sendable {
    /// The paid routes.
    public let routes: RouteTable
    /// Verifies and settles payments.
    public let facilitator: any FacilitatorClient
    /// The scheme servers that price the routes' payment options.
    public let schemes: SchemeRegistry<any SchemeServer>
    /// Where claims on payments are kept, so a replay is refused on every instance.
    public let store: any PaymentStateStore
    /// Callbacks around verification and settlement.
    public var hooks: ServerHooks
    /// The HTML page sent to browsers instead of a bare 402 (HTTP answer).
    public var paywall: Paywall
    /// Add `Access-Control-Expose-Headers` for the x402 headers to every x402 answer and release
    /// (HTTP answer).
    public var exposesHeadersForCORS: Bool
    /// How long a request may hold a payment before another request may take it over.
    public var claimLease: Duration
    /// Offer v1 requirements (and accept `X-PAYMENT`) for clients that speak v1.
    public var acceptsV1: Bool
    /// The protocol of the 402 sent for an unpaid request: `.v2` sends `PAYMENT-REQUIRED`; `.v1`
    /// makes a legacy seller that sends the v1 offer as the JSON body instead (needs
    /// ``acceptsV1``; HTTP answer).
    public var unpaidOfferVersion: X402Version
    /// Sign-in (`sign-in-with-x`) settings for routes with ``PaidRoute/signIn``.
    public var signInWithX: SignInWithX.Server?
    /// Where `payment-identifier` ids are bound to payments: the payment-state store when it
    /// implements ``PaymentIdentifierStore`` (the in-memory, SQLite and PostgreSQL stores do).
    public var paymentIdentifiers: (any PaymentIdentifierStore)?
    /// Signs the offers and receipts of routes that declare `offer-receipt`.
    public var offerReceipts: OfferReceipt.Signing?
    private let supportedCache: SupportedCache
    /// The offers of routes whose prices and payees are all fixed, by route, method and resource
    /// URL, each kept for a minute (bounded: a client varying the URL costs memory only up to 256).
    private let offers = BoundedCache<String, PaymentOffer, ContinuousClock.Instant>(capacity: 256)

    /// A resource server for `configuration`.
    ///
    /// - Parameter configuration: The routes, facilitator, schemes, store, hooks and options.
    /// - Throws: ``RouteConfigurationError`` for an invalid route pattern or price, or an option
    ///   whose scheme has no registered ``SchemeServer``.
    public init(configuration: Configuration) throws(RouteConfigurationError) {
        try configuration.routes.validate()
        try Self.validateBazaar(configuration.routes)
        for (pattern, route) in configuration.routes.routes {
            if route.signIn != nil, configuration.signInWithX == nil { throw .signInNotConfigured(pattern.description) }
            if route.signIn == .authOnly, route.accepts.isEmpty, configuration.signInWithX?.chains.isEmpty == true {
                throw .signInNotConfigured(pattern.description)
            }
            if OfferReceipt.RouteOptions(extensions: route.extensions) != nil, configuration.offerReceipts == nil {
                throw .offerReceiptsNotConfigured(pattern.description)
            }
            for option in route.accepts where !configuration.schemes.supports(version: .v2, scheme: option.scheme, network: option.network) {
                throw .noSchemeServer(scheme: option.scheme, network: option.network.identifier)
            }
        }
        self.routes = configuration.routes
        self.facilitator = configuration.facilitator
        self.schemes = configuration.schemes
        self.store = configuration.store
        self.hooks = configuration.hooks
        self.paywall = configuration.paywall
        self.exposesHeadersForCORS = configuration.exposesHeadersForCORS
        self.claimLease = configuration.claimLease
        self.acceptsV1 = configuration.acceptsV1
        self.unpaidOfferVersion = configuration.unpaidOfferVersion
        self.signInWithX = configuration.signInWithX
        self.paymentIdentifiers = configuration.store as? any PaymentIdentifierStore
        self.offerReceipts = configuration.offerReceipts
        self.supportedCache = SupportedCache()
    }

    // MARK: - Evaluating

    /// Judges a request before its handler runs: finds its route and price, reads, claims and
    /// verifies its payment (and settles it first for settle-before routes).
    ///
    /// - Parameter incoming: The request.
    /// - Returns: Whether to run the handler, answer without it, or run it for a pending payment.
    public func evaluate(_ incoming: ServerRequest) async -> PaymentStep {
        let pattern: RoutePattern
        let route: PaidRoute
        let parameters: [String: String]
        switch routes.resolve(incoming) {
        case .free: return .free(incoming)
        case .refused(let refusal): return .answer(PaymentAnswer(reason: .refusedPath(refusal), request: incoming, version: .v2))
        case .preflight(let allow): return .answer(PaymentAnswer(reason: .preflight(allow: allow), request: incoming, version: .v2))
        case .paid(let p, let r, let params): (pattern, route, parameters) = (p, r, params)
        }
        var request = incoming
        request.routeParameters = parameters

        // A wallet that may sign in instead of paying is served without payment or facilitator.
        var signInFailure: SignInWithXFailure?
        if let policy = route.signIn, let signInWithX, let header = request.headers.firstValue(for: .signInWithX) {
            do {
                return .signedIn(
                    request,
                    try await signIn(
                        header, request: request, policy: policy, settings: signInWithX, networks: route.accepts.map(\.network.identifier)))
            } catch {
                signInFailure = error
            }
        }

        // Which protocol the client speaks: a v1 client sends X-PAYMENT.
        let signature = request.headers.firstValue(for: .paymentSignature)
        let legacy = signature == nil ? request.headers.firstValue(for: .xPayment) : nil
        let speaksV1 = acceptsV1 && legacy != nil

        // A route whose every price and payee is fixed offers the same for the same resource: its
        // offer (and the encoded header) is built once per method (the bazaar declaration names
        // it) and kept for a minute. Not a route that
        // signs its offers: they carry an expiry (their own cache renews them in time).
        let signsOffers = OfferReceipt.RouteOptions(extensions: route.extensions) != nil
        let cacheKey =
            route.signIn == nil && !signsOffers && route.hasFixedOffer
            ? "\(pattern.description)\u{0}\(request.method.rawValue)\u{0}\(route.resource ?? request.url)" : nil
        let offer: PaymentOffer
        if let cacheKey, let cached = offers.value(for: cacheKey, now: .now) {
            offer = cached
        } else {
            let requirements: [PaymentRequirements]
            let complete: Bool
            do {
                (requirements, complete) = try await buildRequirements(for: request, route: route)
            } catch {
                return .answer(
                    PaymentAnswer(
                        reason: .failed(.requirementsUnavailable(String(describing: error)), duringSettlement: false), request: request,
                        version: .v2))
            }
            let resource = ResourceInfo(url: route.resource ?? request.url, description: route.description, mimeType: route.mimeType)
            var extensions = route.extensions
            if route.signIn != nil, let signInWithX {
                var all = extensions ?? [:]
                let path = (try? RequestPath(request.path).canonical) ?? request.path
                all[SignInWithX.extensionKey] = signInWithX.declaration(path: path, networks: route.accepts.map(\.network.identifier))
                extensions = all
            }
            if let bazaar = Self.bazaarExtension(for: request, pattern: pattern, route: route) {
                var all = extensions ?? [:]
                all[Bazaar.extensionKey] = bazaar
                extensions = all
            }
            extensions = await signingOffers(in: extensions, requirements: requirements, resourceURL: resource.url)
            let required = PaymentRequired(
                error: signInFailure?.reason.rawValue ?? "Payment required", resource: resource, accepts: requirements, extensions: extensions)
            let outputSchema = extensions?[Bazaar.extensionKey].flatMap(Bazaar.v1OutputSchema)
            let offeredV1 = requirements.compactMap { v1Requirement($0, resource: resource, route: route, outputSchema: outputSchema) }
            var built = PaymentOffer(required: required, requirementsV1: offeredV1, paywallHTML: route.paywallHTML)
            // Only an offer built with the facilitator's `/supported` answer is kept.
            if let cacheKey, complete {
                built.encodedRequired = required.headerValue
                offers.store(built, for: cacheKey, until: .now + .seconds(60))
            }
            offer = built
        }
        let requirements = offer.required.accepts
        let required = offer.required
        let offeredV1 = offer.requirementsV1

        // Read the payment.
        let payload: AnyPaymentPayload
        if speaksV1, let legacy {
            do {
                payload = try AnyPaymentPayload(headerValue: legacy)
            } catch {
                return .answer(PaymentAnswer(reason: .unreadablePayment("\(error)"), request: request, version: .v1, offer: offer))
            }
        } else if let signature, let decoded = try? AnyPaymentPayload(headerValue: signature) {
            payload = decoded
        } else {
            return .answer(PaymentAnswer(reason: .paymentRequired, request: request, version: .v2, offer: offer))
        }

        let offered: [AnyPaymentRequirements] = payload.version == .v1 ? offeredV1.map { .v1($0) } : requirements.map { .v2($0) }
        func failed(_ failure: PaymentFailure) -> PaymentStep {
            .answer(PaymentAnswer(reason: .failed(failure, duringSettlement: false), request: request, version: payload.version, offer: offer))
        }

        // Match the payment to an offer.
        guard let chosen = RequirementsMatching.accepted(payload, in: offered) else { return failed(.noMatchingRequirements) }
        let attempt = PaymentAttempt(
            request: request, route: pattern.description, payload: Self.withOfferedBazaar(payload, offered: required), requirements: chosen,
            identity: PaymentIdentity(payload))

        // A route declaring `payment-identifier` binds the payment's id to the payment: the same id
        // again is a retry of the same payment, the same id with another payment a conflict.
        if PaymentIdentifier.isDeclared(in: route.extensions) {
            do {
                if let problem = try await bindPaymentIdentifier(of: attempt, required: PaymentIdentifier.isRequired(by: route.extensions)) {
                    return failed(.paymentIdentifier(problem))
                }
            } catch {
                return failed(.storeUnavailable(error))
            }
        }

        if let hook = hooks.beforeVerify {
            switch await hook(attempt) {
            case .proceed: break
            case .abort(let response):
                return .answer(
                    PaymentAnswer(reason: .hookResponse(response, settlement: nil), request: request, version: payload.version, offer: offer))
            case .grantAccess: return .free(request)
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
                        paymentRequired: required, settlementID: record.settlementID))
            case .rejected(let record): return failed(.replayed(record))
            }
        } catch {
            return failed(.storeUnavailable(error))
        }

        // Verify.
        let facilitatorRequest = FacilitatorRequest(paymentPayload: attempt.payload, paymentRequirements: chosen)
        let verification: VerifyResponse
        do {
            verification = try await facilitator.verify(facilitatorRequest)
        } catch {
            await releaseQuietly(attempt.identity)
            return failed(.facilitatorFault(error))
        }
        guard verification.isValid else {
            await markQuietly(attempt.identity, .failed, payer: verification.payer)
            return failed(.verificationFailed(verification))
        }
        await markQuietly(attempt.identity, .verified, payer: verification.payer)
        if let hook = hooks.afterVerify, case .abort(let response) = await hook(attempt, verification) {
            await releaseQuietly(attempt.identity)
            return .answer(PaymentAnswer(reason: .hookResponse(response, settlement: nil), request: request, version: payload.version, offer: offer))
        }

        var pending = PendingPayment(
            request: request, attempt: attempt, settlement: route.settlement, settled: nil, offered: offered,
            paymentRequired: required)
        if route.settlement == .beforeHandler {
            switch await settle(pending) {
            case .success(let settlement):
                pending = PendingPayment(
                    request: request, attempt: attempt, settlement: route.settlement, settled: settlement, offered: offered,
                    paymentRequired: required)
            case .failure(let answer): return .answer(answer)
            }
        }
        return .proceed(pending)
    }

    /// Ends a paid request once its handler has answered (its answer not yet sent): settles when
    /// the route settles after the handler and the handler succeeded.
    ///
    /// - Parameters:
    ///   - payment: The payment from ``PaymentStep/proceed(_:)``.
    ///   - handlerSucceeded: Whether the handler served the resource (for HTTP, a status below 400).
    /// - Returns: The settlement to release the answer with, ``PaymentConclusion/unsettled`` when
    ///   the handler refused, or the answer that replaces the handler's.
    public func conclude(_ payment: PendingPayment, handlerSucceeded: Bool) async -> PaymentConclusion {
        if let settled = payment.settled { return .settled(settled) }
        guard handlerSucceeded else {
            // The handler refused; the payment was not used and may be presented again.
            await releaseQuietly(payment.attempt.identity)
            return .unsettled
        }
        switch await settle(payment) {
        case .success(let settlement): return .settled(settlement)
        case .failure(let answer): return .answer(answer)
        }
    }

    /// Forgets a pending payment whose handler failed without answering (it may be presented again).
    /// Not needed after ``conclude(_:handlerSucceeded:)``.
    ///
    /// - Parameter payment: The payment from ``PaymentStep/proceed(_:)``.
    public func abandon(_ payment: PendingPayment) async {
        if payment.settled == nil { await releaseQuietly(payment.attempt.identity) }
    }

    // MARK: - Settling

    private enum SettleOutcome {
        case success(SettleResponse)
        case failure(PaymentAnswer)
    }

    /// The client presented a payment whose settlement is pending: ask the facilitator again with
    /// the same settlement id, without verifying (the authorization may be used on-chain by now),
    /// and run the handler only once the settlement is confirmed.
    private func resumePending(_ payment: PendingPayment) async -> PaymentStep {
        switch await settle(payment) {
        case .success(let settlement):
            var settled = PendingPayment(
                request: payment.request, attempt: payment.attempt, settlement: payment.settlement, settled: settlement,
                offered: payment.offered, paymentRequired: payment.paymentRequired)
            settled.settlementID = payment.settlementID
            return .proceed(settled)
        case .failure(let answer):
            return .answer(answer)
        }
    }

    private func settle(_ payment: PendingPayment) async -> SettleOutcome {
        let attempt = payment.attempt
        let resuming = payment.settlementID != nil
        func answer(_ reason: PaymentAnswer.Reason) -> SettleOutcome {
            .failure(PaymentAnswer(reason: reason, request: attempt.request, version: attempt.payload.version, offer: payment.offer))
        }
        if let hook = hooks.beforeSettle, case .abort(let response) = await hook(attempt) {
            if resuming {
                await markQuietly(attempt.identity, .pending, payer: nil)
            } else {
                await releaseQuietly(attempt.identity)
            }
            return answer(.hookResponse(response, settlement: nil))
        }
        // One settlement id per settlement attempt, recorded before the facilitator is asked, so
        // that a retry after a lost answer or `settlement_pending` is recognised as its owner.
        let settlementID = payment.settlementID ?? SettlementIdempotency.newID()
        if !resuming {
            do {
                try await store.beginSettlement(attempt.identity, settlementID: settlementID, now: Date())
            } catch {
                await releaseQuietly(attempt.identity)
                return answer(.failed(.storeUnavailable(error), duringSettlement: true))
            }
        }
        let request = FacilitatorRequest(paymentPayload: attempt.payload, paymentRequirements: attempt.requirements)
        let facilitator = self.facilitator
        let result: Result<SettleResponse, FacilitatorClientError> = await SettlementIdempotency.$current.withValue(settlementID) {
            () async -> Result<SettleResponse, FacilitatorClientError> in
            do throws(FacilitatorClientError) { return .success(try await facilitator.settle(request)) } catch { return .failure(error) }
        }
        var settlement: SettleResponse
        switch result {
        case .success(let response):
            settlement = response
        case .failure(let error):
            // The outcome is unknown: the settlement stays pending under its id. The client presents
            // the same payment again; the facilitator then answers for this settlement.
            await markQuietly(attempt.identity, .pending, payer: nil)
            let pending = SettleResponse.failure(
                .settlementPending, message: "the facilitator did not confirm the settlement (\(error)); present the same payment again",
                network: attempt.requirements.networkIdentifier)
            return answer(.failed(.settlementFailed(pending), duringSettlement: true))
        }
        guard settlement.success else {
            if settlement.errorReason == .settlementPending {
                await markQuietly(
                    attempt.identity, .pending, payer: settlement.payer, transaction: settlement.transaction.isEmpty ? nil : settlement.transaction)
            } else {
                await markQuietly(attempt.identity, .failed, payer: settlement.payer)
            }
            return answer(.failed(.settlementFailed(settlement), duringSettlement: true))
        }
        await markQuietly(attempt.identity, .settled, payer: settlement.payer, transaction: settlement.transaction)
        await recordSignInGrant(for: attempt, payer: settlement.payer)
        settlement = await addingReceipt(to: settlement, for: payment)
        if let hook = hooks.afterSettle, case .abort(let response) = await hook(attempt, settlement) {
            return answer(.hookResponse(response, settlement: settlement))
        }
        return .success(settlement)
    }

    // MARK: - Requirements

    /// The v2 requirements the route offers for `request`, in the route's order.
    ///
    /// - Parameter request: The request.
    /// - Returns: The requirements, or `nil` when no paid route matches the request.
    /// - Throws: When a price or recipient cannot be computed, or a scheme is missing.
    public func requirements(for request: ServerRequest) async throws -> [PaymentRequirements]? {
        guard case .paid(_, let route, let parameters) = routes.resolve(request) else { return nil }
        var request = request
        request.routeParameters = parameters
        return try await buildRequirements(for: request, route: route).0
    }

    /// The route's requirements for `request`, and whether they were built with the facilitator's
    /// `/supported` answer (`false` when it could not be fetched).
    private func buildRequirements(for request: ServerRequest, route: PaidRoute) async throws -> ([PaymentRequirements], Bool) {
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
        return (result, supported != nil)
    }

    private func v1Requirement(
        _ r: PaymentRequirements, resource: ResourceInfo, route: PaidRoute, outputSchema: JSONValue?
    ) -> PaymentRequirementsV1? {
        guard acceptsV1, let name = r.network.legacyName else { return nil }
        return PaymentRequirementsV1(
            scheme: r.scheme, network: name, maxAmountRequired: r.amount, resource: resource.url, description: route.description,
            mimeType: route.mimeType, payTo: r.payTo, maxTimeoutSeconds: r.maxTimeoutSeconds ?? 300, asset: r.asset,
            outputSchema: outputSchema, extra: r.extra)
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
