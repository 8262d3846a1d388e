public import Foundation
public import HTTPTypes
public import X402

/// A buffered HTTP response as the paying clients return it.
public struct PayingClientResponse: Sendable {
    public var status: Int
    /// The response's header fields, in the order received.
    public var headers: HTTPFields
    public var body: [UInt8]
    /// Whether and how the call was paid.
    public var payment: PaymentOutcome

    /// A buffered response.
    ///
    /// - Parameters:
    ///   - status: The status code.
    ///   - headers: The header fields.
    ///   - body: The body bytes.
    ///   - payment: Whether and how the call was paid.
    public init(status: Int, headers: HTTPFields, body: [UInt8], payment: PaymentOutcome = .notRequired) {
        self.status = status
        self.headers = headers
        self.body = body
        self.payment = payment
    }

    /// The settlement receipt of a paid call.
    public var settlement: SettleResponse? {
        switch payment {
        case .paid(let receipt): receipt.settlement
        case .rejected(let rejection): rejection.settlement
        case .pending(let pending): pending.settlement
        case .notRequired, .signedIn: nil
        }
    }
}

/// What happened about payment during one call.
public enum PaymentOutcome: Sendable {
    /// The first answer was not a 402: returned untouched, nothing paid.
    case notRequired
    /// One payment was sent and the server accepted it.
    case paid(PaymentReceipt)
    /// One payment was sent and the server answered 402 again: verification or settlement failed.
    /// The spend keeps counting (`unconfirmed`) until reconciliation proves it expired unused.
    case rejected(PaymentRejection)
    /// One payment was sent and the server reported its settlement as still pending after the
    /// client re-presented the same payment for ``PendingSettlementPolicy/maxWait``. The
    /// spend keeps counting; do not pay again for this call.
    case pending(PendingPayment)
    /// The 402 offered `sign-in-with-x` and the wallet had paid for the resource before (or the
    /// route takes no payment): a sign-in proof was sent instead of a payment and the server
    /// served the resource. Nothing was paid, signed for payment or settled.
    case signedIn(SignInReceipt)
}

/// A call served after a wallet sign-in (`sign-in-with-x`) instead of a payment.
public struct SignInReceipt: Sendable {
    /// The account that signed in.
    public var address: String
    /// The CAIP-2 chain the proof was made for.
    public var chainID: String
}

/// A payment the server accepted.
public struct PaymentReceipt: Sendable {
    /// The option paid.
    public var candidate: PaymentCandidate
    /// The payload sent.
    public var payload: AnyPaymentPayload
    /// The decoded `PAYMENT-RESPONSE` / `X-PAYMENT-RESPONSE`, if the server sent one.
    public var settlement: SettleResponse?
    /// The spend-ledger entry.
    public var recordID: UUID
    /// The seller's signed receipt (`offer-receipt`) with its verdict, when the client checks
    /// receipts and the settlement carried one.
    public var offerReceipt: CheckedReceipt? = nil
}

/// A payment the server rejected (a 402 on the paid retry).
public struct PaymentRejection: Sendable, CustomStringConvertible {
    public var candidate: PaymentCandidate
    /// The reason: the settlement's `errorReason`, or the new 402's `error`.
    public var reason: String
    /// A failed settlement receipt, when the server sent one.
    public var settlement: SettleResponse?
    /// The second 402 answer, when it carried one.
    public var paymentRequired: AnyPaymentRequired?
    public var recordID: UUID

    public var description: String { "payment of \(candidate.value.map(\.description) ?? candidate.atomicAmount.decimalString) rejected: \(reason)" }
}

/// A payment whose settlement the server still reported as pending when the client stopped
/// re-presenting it.
public struct PendingPayment: Sendable, CustomStringConvertible {
    public var candidate: PaymentCandidate
    /// The payload sent (the same one every time).
    public var payload: AnyPaymentPayload
    /// The settlement transaction the server reported (empty when the seller did not know it).
    public var transaction: String
    /// The last `settlement_pending` receipt.
    public var settlement: SettleResponse
    /// How many times the same payment was sent.
    public var attempts: Int
    public var recordID: UUID

    public var description: String { "payment pending, tx \(transaction.isEmpty ? "unknown" : transaction)" }
}

/// Why a paying client could not complete a call (policy refusals are thrown as `PaymentRefusal`).
///
/// A struct rather than an enum so that new kinds of failure can be added without breaking
/// callers: switch over ``code`` with a `default` branch.
public struct PayingClientError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Hashable { case unreadablePaymentRequired, transport, tooManyRedirects, invalidRedirect }
        private let base: Base

        /// The 402 answer carried neither a readable `PAYMENT-REQUIRED` header nor an x402 JSON body.
        public static let unreadablePaymentRequired = Code(base: .unreadablePaymentRequired)
        /// The transport failed.
        public static let transport = Code(base: .transport)
        /// More redirects than ``PayingClientOptions/maxRedirects``.
        public static let tooManyRedirects = Code(base: .tooManyRedirects)
        /// A redirect without a usable http(s) `Location`.
        public static let invalidRedirect = Code(base: .invalidRedirect)

        public var description: String { "\(base)" }
    }

    /// The kind of failure.
    public let code: Code
    /// What went wrong, for people (peer text in it is not escaped: escape it before printing to a terminal).
    public let message: String
    /// For ``Code/unreadablePaymentRequired``: why the 402 answer could not be read.
    public let decodingError: X402DecodingError?

    private init(_ code: Code, _ message: String, decodingError: X402DecodingError? = nil) {
        self.code = code
        self.message = message
        self.decodingError = decodingError
    }

    /// The 402 answer carried neither a readable `PAYMENT-REQUIRED` header nor an x402 JSON body.
    /// - Parameter error: why it could not be read.
    /// - Returns: the error.
    public static func unreadablePaymentRequired(_ error: X402DecodingError) -> Self {
        Self(.unreadablePaymentRequired, "the 402 answer is not a readable x402 payment request: \(error)", decodingError: error)
    }

    /// The transport failed.
    /// - Parameter message: what the transport reported.
    /// - Returns: the error.
    public static func transport(_ message: String) -> Self { Self(.transport, "request failed: \(message)") }

    /// More redirects than ``PayingClientOptions/maxRedirects``.
    /// - Parameter limit: the limit that was reached.
    /// - Returns: the error.
    public static func tooManyRedirects(_ limit: Int) -> Self { Self(.tooManyRedirects, "more than \(limit) redirects") }

    /// A redirect without a usable http(s) `Location`.
    /// - Parameter location: the unusable target (shortened).
    /// - Returns: the error.
    public static func invalidRedirect(_ location: String) -> Self { Self(.invalidRedirect, "unusable redirect target \(location)") }

    public var description: String { message }
}

/// Asked before paying a 402 that came from another origin than the one requested (after a
/// redirect); answers whether to pay it.
public typealias CrossOriginPaymentHandler = @Sendable (CrossOriginPaymentRequest) async -> Bool

/// What the cross-origin handler is asked about.
public struct CrossOriginPaymentRequest: Sendable {
    /// The URL the caller asked for.
    public var requestedURL: String
    /// The URL, on another origin, that answered 402.
    public var paymentURL: String
    /// Its payment request.
    public var paymentRequired: AnyPaymentRequired
}

/// How long a payment whose settlement is pending is re-presented.
///
/// When the paid request is answered 402 with a `PAYMENT-RESPONSE` (`X-PAYMENT-RESPONSE` for v1)
/// whose receipt says `success: false`, `errorReason: "settlement_pending"` and names the
/// transaction, the client sends the very same request with the very same payment header again
/// (never a new signature) after ``initialDelay``, doubling up to ``maxDelay``, while the total
/// wait stays within ``maxWait`` and at most ``maxAttempts`` re-sends.
public struct PendingSettlementPolicy: Sendable, Hashable {
    public var maxWait: Duration
    public var initialDelay: Duration
    public var maxDelay: Duration
    public var maxAttempts: Int

    public init(maxWait: Duration = .seconds(60), initialDelay: Duration = .seconds(2), maxDelay: Duration = .seconds(15), maxAttempts: Int = 10) {
        self.maxWait = maxWait
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.maxAttempts = max(0, maxAttempts)
    }

    /// Never re-present: report the payment pending at once.
    public static let none = PendingSettlementPolicy(maxWait: .zero, maxAttempts: 0)
}

/// The paying clients' rules for redirects and pending settlements.
public struct PayingClientOptions: Sendable {
    /// Redirects followed per leg (default 5).
    public var maxRedirects: Int
    /// Asked before paying a 402 from another origin than the requested one; `nil` (the default)
    /// refuses with `PaymentRefusal/crossOriginPaymentRequest(requested:answeredBy:)`.
    public var crossOriginPayment: CrossOriginPaymentHandler?
    public var pendingSettlement: PendingSettlementPolicy
    /// Asked after a 402 was read and before anything is signed; see ``PaymentGate``. `nil`
    /// pays under the payer's policy.
    public var paymentGate: PaymentGate?
    /// Signs in (`sign-in-with-x`) instead of paying when a 402 offers it and the ledger holds a
    /// settled payment of this wallet for the resource (or the route takes no payment); pays only
    /// when the sign-in is refused. `nil` (the default): never signs in.
    public var signIn: (any SignInSigner)?
    /// Further wallets of the buyer that may sign in (a Solana keypair beside the EVM key, say).
    /// A sign-in proves the account that paid, so the flow signs in with the wallet, ``signIn``
    /// first, whose address the settled payment's receipt names and whose chain type the server
    /// offers; it pays when none fits.
    public var moreSignIn: [any SignInSigner] = []
    /// The `payment-identifier` id sent when a 402 declares the extension; `nil` (the default)
    /// generates one per payment. A re-presented payment always carries its first id.
    public var paymentIdentifier: String?
    /// Told about a signed payment before it is sent (its spend-ledger record); throw to stop
    /// without sending it. The approval queue records which payment a confirmation made here, so
    /// that a confirmation that dies mid-way can be recovered.
    public var paymentSigned: (@Sendable (PreparedPayment) async throws -> Void)?
    /// Checks `offer-receipt` signed offers before paying (a bad one refuses the payment) and the
    /// receipt after, storing it in `OfferReceiptClientPolicy.store` or the payer's ledger.
    /// `nil` (the default): neither is checked.
    public var offerReceipts: OfferReceiptClientPolicy?

    public init(
        maxRedirects: Int = 5, crossOriginPayment: CrossOriginPaymentHandler? = nil,
        pendingSettlement: PendingSettlementPolicy = PendingSettlementPolicy(), paymentGate: PaymentGate? = nil,
        signIn: (any SignInSigner)? = nil, paymentIdentifier: String? = nil, offerReceipts: OfferReceiptClientPolicy? = nil
    ) {
        self.offerReceipts = offerReceipts
        self.paymentIdentifier = paymentIdentifier
        self.maxRedirects = max(0, maxRedirects)
        self.crossOriginPayment = crossOriginPayment
        self.pendingSettlement = pendingSettlement
        self.paymentGate = paymentGate
        self.signIn = signIn
    }
}

/// Asked with the 402 answer and the URL that sent it, before anything is signed.
///
/// Return `nil` to pay under the payer's policy, or terms the owner approved to pay only within
/// them (`Payer/preparePayment(for:resource:terms:paymentIdentifier:)`). Throw to stop without paying: the
/// approval queue throws `PurchaseQueued` when it recorded the purchase instead
/// (`PurchaseApprovals/assess(_:url:method:probe:ownerApproval:)`); the client rethrows it.
public typealias PaymentGate = @Sendable (_ required: AnyPaymentRequired, _ paymentURL: String) async throws -> ApprovedTerms?

/// One request the flow asks a transport to send, without following redirects itself.
struct PayingHop: Sendable {
    /// The absolute URL.
    var url: String
    /// A 301/302/303 was followed: a non-GET/HEAD request becomes a GET without body.
    var becomesGet: Bool
    /// The URL's origin differs from the caller's request: credentials (`Authorization`,
    /// `Cookie`, `Proxy-Authorization`) are not sent.
    var crossOrigin: Bool
}

/// scheme + host + port, the unit of trust for payment headers.
struct PayingOrigin: Hashable, Sendable, CustomStringConvertible {
    let scheme: String
    let host: String
    let port: Int

    init?(_ url: String) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = components.host?.lowercased(), !host.isEmpty
        else { return nil }
        self.scheme = scheme
        self.host = host
        port = components.port ?? (scheme == "https" ? 443 : 80)
    }

    var description: String { "\(scheme)://\(host):\(port)" }
}

/// The transport-neutral paying flow both clients share: send (following redirects itself); on
/// 402 decode, prepare one payment through the ``Payer`` (policy and ledger first), resend with
/// the payment header to the origin that asked for it, read the settlement. Never pays twice
/// for one call; a pending settlement is re-presented with the same payment.
struct PayingFlow: Sendable {
    let payer: Payer
    var options = PayingClientOptions()
    /// Sleeps between re-presentations (replaced in tests).
    var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }

    typealias Send = @Sendable (PayingHop, [(String, String)]) async throws -> PayingClientResponse

    static let redirectStatuses: Set<Int> = [301, 302, 303, 307, 308]

    /// - Parameters:
    ///   - url: the request URL.
    ///   - requestHeaders: the caller's request headers (checked for an existing payment header).
    ///   - send: sends one hop with extra headers, without following redirects.
    func run(url: String, requestHeaders: [(String, String)], send: Send) async throws -> PayingClientResponse {
        guard let requestedOrigin = PayingOrigin(url) else { throw PayingClientError.invalidRedirect(url) }
        let (first, hop, _) = try await follow(
            from: PayingHop(url: url, becomesGet: false, crossOrigin: false), requestedOrigin: requestedOrigin, payment: nil, send: send)
        guard first.status == 402 else { return first }

        let carried = requestHeaders.first {
            $0.0.caseInsensitiveCompare(PaymentHeaderName.paymentSignature) == .orderedSame
                || $0.0.caseInsensitiveCompare(PaymentHeaderName.xPayment) == .orderedSame
        }
        if let carried { throw PaymentRefusal.requestAlreadyCarriesPayment(header: carried.0) }

        var required = try Self.paymentRequired(in: first)
        guard let paymentOrigin = PayingOrigin(hop.url) else { throw PayingClientError.invalidRedirect(hop.url) }
        if paymentOrigin != requestedOrigin {
            let request = CrossOriginPaymentRequest(requestedURL: url, paymentURL: hop.url, paymentRequired: required)
            guard let handler = options.crossOriginPayment, await handler(request) else {
                throw PaymentRefusal.crossOriginPaymentRequest(requested: requestedOrigin.description, answeredBy: paymentOrigin.description)
            }
        }
        // A wallet that paid for this resource before signs in instead of paying again.
        if let primary = options.signIn, let challenge = SignInChallenge(extensions: required.extensions), paymentOrigin == requestedOrigin,
            let signer = await Self.signInWallet(challenge, among: [primary] + options.moreSignIn, required, payer: payer, resource: hop.url),
            let proof = try? await challenge.proof(signer: signer, responseURL: hop.url)
        {
            let (answer, _, _) = try await follow(
                from: hop, requestedOrigin: requestedOrigin, payment: (paymentOrigin, [(SignInWithX.headerName, proof.headerValue)]),
                send: send)
            guard answer.status == 402 else {
                var served = answer
                served.payment = .signedIn(SignInReceipt(address: proof.address, chainID: proof.chainID))
                return served
            }
            // Refused (expired access, replayed nonce…): pay against the fresh 402.
            required = try Self.paymentRequired(in: answer)
        }
        let checkedOffers = try options.offerReceipts?.checkOffers(required) ?? []
        let terms = try await options.paymentGate?(required, hop.url)
        let prepared = try await payer.preparePayment(
            for: required, resource: hop.url, terms: terms, paymentIdentifier: options.paymentIdentifier)
        if let paymentSigned = options.paymentSigned { try await payer.beforeSending(prepared, paymentSigned) }

        // From here the payment is signed. It goes only to the origin that asked for it, and it is
        // only ever re-sent unchanged (a pending settlement): never a second signature.
        let payment: [(String, String)] = [
            (prepared.headerName, prepared.headerValue),
            ("Access-Control-Expose-Headers", "PAYMENT-RESPONSE,X-PAYMENT-RESPONSE"),
        ]
        let policy = options.pendingSettlement
        var attempts = 0
        var waited: Duration = .zero
        var delay = policy.initialDelay
        while true {
            attempts += 1
            var (second, _, settlementAnswer) = try await follow(
                from: hop, requestedOrigin: requestedOrigin, payment: (paymentOrigin, payment), send: send)
            let settlement = settlementAnswer.flatMap { answer in
                try? SettleResponse.fromResponseHeaders { name in HTTPField.Name(name).flatMap { answer.headers.firstValue(for: $0) } }
            }

            if second.status == 402, let settlement, Self.isPending(settlement) {
                try? await payer.recordUnconfirmed(of: prepared, reason: "settlement_pending", transaction: settlement.transaction)
                let retries = attempts - 1
                guard retries < policy.maxAttempts, waited + delay <= policy.maxWait else {
                    second.payment = .pending(
                        PendingPayment(
                            candidate: prepared.candidate, payload: prepared.payload, transaction: settlement.transaction, settlement: settlement,
                            attempts: attempts, recordID: prepared.recordID))
                    return second
                }
                try await sleep(delay)
                waited += delay
                delay = min(delay * 2, policy.maxDelay)
                continue
            }

            if second.status == 402 {
                let again = try? Self.paymentRequired(in: second)
                let reason = settlement?.errorReason?.rawValue ?? again?.error ?? "payment rejected"
                // The server holds a live signature: its 402 does not prove nothing moved.
                try? await payer.recordUnconfirmed(of: prepared, reason: reason, transaction: settlement?.transaction)
                second.payment = .rejected(
                    PaymentRejection(
                        candidate: prepared.candidate, reason: reason, settlement: settlement, paymentRequired: again,
                        recordID: prepared.recordID))
                return second
            }
            var offerReceipt: CheckedReceipt?
            if let settlement {
                try? await payer.recordSettlement(of: prepared, receipt: settlement)
                offerReceipt = await Self.keepReceipt(
                    in: settlement, prepared: prepared, required: required, resource: hop.url, offers: checkedOffers, payer: payer,
                    policy: options.offerReceipts)
            } else if second.status >= 400 {
                // The handler failed and no receipt came back; the signature is still live.
                try? await payer.recordUnconfirmed(of: prepared, reason: "HTTP \(second.status) without settlement")
            }
            // A success without a receipt stays pending in the ledger: it keeps counting.
            second.payment = .paid(
                PaymentReceipt(
                    candidate: prepared.candidate, payload: prepared.payload, settlement: settlement, recordID: prepared.recordID,
                    offerReceipt: offerReceipt))
            return second
        }
    }

    /// Checks the settlement's signed receipt against the payment and stores it (in the policy's
    /// store, or the payer's ledger when it keeps receipts). A bad receipt is stored with its
    /// verdict, never dropped.
    static func keepReceipt(
        in settlement: SettleResponse, prepared: PreparedPayment, required: AnyPaymentRequired, resource: String, offers: [CheckedOffer],
        payer: Payer, policy: OfferReceiptClientPolicy?
    ) async -> CheckedReceipt? {
        guard let policy, settlement.success else { return nil }
        let requirement = prepared.candidate.requirements
        let paidOffer = OfferReceipt.offer(for: requirement, in: offers.map(\.offer), index: prepared.candidate.index)
            .flatMap { offer in offers.first { $0.offer == offer } }
        guard
            let checked = policy.checkReceipt(
                in: settlement, requirement: requirement, resourceURL: required.resource?.url ?? resource,
                payers: [payer.wallet] + policy.additionalPayers, paidOffer: paidOffer)
        else { return nil }
        if let receipt = checked.receipt, let store = policy.store ?? (payer.ledger as? any SignedReceiptStore) {
            try? await store.storeReceipt(
                StoredReceipt(
                    recordID: prepared.recordID, receipt: receipt, status: checked.effectiveStatus,
                    signer: checked.verification.signer?.description, detail: checked.description, receivedAt: Date()))
        }
        return checked
    }

    /// The wallet that may sign in for `resource`: any the challenge accepts on a route that takes
    /// no payment; else the one that paid for it (the ledger's settled payments).
    static func signInWallet(
        _ challenge: SignInChallenge, among signers: [any SignInSigner], _ required: AnyPaymentRequired, payer: Payer, resource: String
    ) async -> (any SignInSigner)? {
        if required.accepts.isEmpty { return challenge.signer(among: signers, payers: nil) }
        guard let payers = await payer.ledger.settledPayers(for: resource, wallet: payer.wallet) else { return nil }
        return challenge.signer(among: signers, payers: payers)
    }

    /// A receipt saying the settlement is pending (`transaction` names it when the facilitator
    /// answered; it is empty when the seller lost the facilitator's answer).
    static func isPending(_ settlement: SettleResponse) -> Bool {
        !settlement.success && settlement.errorReason == .settlementPending
    }

    /// Sends `start` and follows redirects (at most ``PayingClientOptions/maxRedirects``).
    ///
    /// Payment headers go only to hops on the payment origin; a hop elsewhere is sent without
    /// them. Returns the final answer, its hop, and the last answer from the payment origin that
    /// carried a settlement header (the settlement is read from the origin that was paid).
    func follow(
        from start: PayingHop, requestedOrigin: PayingOrigin, payment: (origin: PayingOrigin, headers: [(String, String)])?, send: Send
    ) async throws -> (PayingClientResponse, PayingHop, PayingClientResponse?) {
        var hop = start
        var settlementAnswer: PayingClientResponse?
        var redirects = 0
        while true {
            let origin = PayingOrigin(hop.url)
            let onPaymentOrigin = payment.map { origin == $0.origin } ?? false
            let response = try await send(hop, onPaymentOrigin ? payment?.headers ?? [] : [])
            if onPaymentOrigin,
                response.headers.contains(.paymentResponse) || response.headers.contains(.xPaymentResponse)
            {
                settlementAnswer = response
            }
            guard Self.redirectStatuses.contains(response.status), let location = response.headers.firstValue(for: .location) else {
                return (response, hop, settlementAnswer)
            }
            guard redirects < options.maxRedirects else { throw PayingClientError.tooManyRedirects(options.maxRedirects) }
            redirects += 1
            guard let base = URL(string: hop.url), let target = URL(string: location, relativeTo: base)?.absoluteURL,
                let next = PayingOrigin(target.absoluteString)
            else { throw PayingClientError.invalidRedirect(String(location.prefix(200))) }
            hop = PayingHop(
                url: target.absoluteString, becomesGet: hop.becomesGet || [301, 302, 303].contains(response.status),
                crossOrigin: next != requestedOrigin)
        }
    }

    /// Quotes without paying: `nil` when the answer was not a 402.
    func quote(url: String, send: Send) async throws -> (PayingClientResponse, PaymentQuote?) {
        guard let requestedOrigin = PayingOrigin(url) else { throw PayingClientError.invalidRedirect(url) }
        let (first, hop, _) = try await follow(
            from: PayingHop(url: url, becomesGet: false, crossOrigin: false), requestedOrigin: requestedOrigin, payment: nil, send: send)
        guard first.status == 402 else { return (first, nil) }
        var quote = payer.quote(try Self.paymentRequired(in: first))
        if PayingOrigin(hop.url) != requestedOrigin { quote.crossOriginURL = hop.url }
        return (first, quote)
    }

    static func paymentRequired(in response: PayingClientResponse) throws -> AnyPaymentRequired {
        do {
            return try AnyPaymentRequired(header: response.headers.firstValue(for: .paymentRequired), body: response.body)
        } catch {
            throw PayingClientError.unreadablePaymentRequired(error)
        }
    }

    /// Headers never sent to another origin than the caller's (as browsers and AsyncHTTPClient do).
    static let credentialHeaders: Set<String> = ["authorization", "cookie", "proxy-authorization"]
}

/// The result of probing a resource without paying.
public enum PriceProbe: Sendable {
    /// The resource answered without asking for payment.
    case free(PayingClientResponse)
    /// The resource costs this.
    case paymentRequired(PaymentQuote)
}
