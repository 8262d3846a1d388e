extension ResourceServer {
    /// Everything a ``ResourceServer`` is built from, each option with its default: the one
    /// place the middlewares (`X402Middleware`, `X402VaporMiddleware`) and the gateway take their
    /// settings from.
    ///
    /// ```swift
    /// var configuration = ResourceServer.Configuration(
    ///     routes: ["GET /weather": .exact("$0.01", on: .base, payTo: "0x…")],
    ///     facilitator: HTTPFacilitatorClient(baseURL: "https://x402.org/facilitator"),
    ///     schemes: schemes)
    /// configuration.exposesHeadersForCORS = true
    /// let server = try ResourceServer(configuration: configuration)
    /// ```
    public struct Configuration: Sendable {
        /// The paid routes; the first matching pattern wins.
        public var routes: RouteTable
        /// Verifies and settles payments.
        public var facilitator: any FacilitatorClient
        /// The scheme servers that price the routes' payment options.
        public var schemes: SchemeRegistry<any SchemeServer>
        /// Where claims on payments are kept. The default keeps them in memory, for one instance;
        /// several instances need a shared store (SQLite or PostgreSQL).
        public var store: any PaymentStateStore
        /// Callbacks around verification and settlement. Default: none.
        public var hooks: ServerHooks
        /// The page sent to browsers instead of a bare 402. Default: the built-in paywall.
        public var paywall: Paywall
        /// Add `Access-Control-Expose-Headers` for the x402 headers to every x402 answer and
        /// release. Default: `false`.
        public var exposesHeadersForCORS: Bool
        /// How long a request may hold a payment before another request may take it over.
        /// Default: 600 seconds.
        public var claimLease: Duration
        /// Offer v1 requirements (and accept `X-PAYMENT`) for clients that speak v1. Default: `true`.
        public var acceptsV1: Bool
        /// The protocol of the 402 sent for an unpaid request: `.v2` (default) sends
        /// `PAYMENT-REQUIRED`; `.v1` makes a legacy seller that sends the v1 offer as the JSON body
        /// instead (needs ``acceptsV1``).
        public var unpaidOfferVersion: X402Version
        /// Sign-in (`sign-in-with-x`) for routes with ``PaidRoute/signIn``: the origin proofs
        /// are bound to, the verifiers and the access store. Default: `nil` (off).
        public var signInWithX: SignInWithX.Server?
        /// Signs offers and receipts for routes that declare `offer-receipt`
        /// (``PaidRoute/signingOffersAndReceipts(_:)``). Default: `nil` (off).
        public var offerReceipts: OfferReceipt.Signing?

        /// A configuration; every option not given keeps its default.
        ///
        /// - Parameters:
        ///   - routes: The paid routes.
        ///   - facilitator: Verifies and settles payments.
        ///   - schemes: The scheme servers that price the routes.
        ///   - store: Where claims on payments are kept (default: in memory).
        ///   - hooks: Callbacks around verification and settlement (default: none).
        ///   - paywall: The browser paywall (default: the built-in one).
        ///   - exposesHeadersForCORS: Expose the x402 headers to scripts (default: `false`).
        ///   - claimLease: How long a request may hold a payment (default: 600 seconds).
        ///   - acceptsV1: Accept and offer v1 (default: `true`).
        ///   - unpaidOfferVersion: The protocol of the unpaid 402 (default: `.v2`).
        ///   - signInWithX: Sign-in settings for routes that allow it (default: `nil`).
        public init(
            routes: RouteTable, facilitator: any FacilitatorClient, schemes: SchemeRegistry<any SchemeServer>,
            store: any PaymentStateStore = InMemoryPaymentStateStore(), hooks: ServerHooks = ServerHooks(), paywall: Paywall = Paywall(),
            exposesHeadersForCORS: Bool = false, claimLease: Duration = .seconds(600), acceptsV1: Bool = true,
            unpaidOfferVersion: X402Version = .v2, signInWithX: SignInWithX.Server? = nil
        ) {
            self.routes = routes
            self.facilitator = facilitator
            self.schemes = schemes
            self.store = store
            self.hooks = hooks
            self.paywall = paywall
            self.exposesHeadersForCORS = exposesHeadersForCORS
            self.claimLease = claimLease
            self.acceptsV1 = acceptsV1
            self.unpaidOfferVersion = unpaidOfferVersion
            self.signInWithX = signInWithX
        }
    }
}
