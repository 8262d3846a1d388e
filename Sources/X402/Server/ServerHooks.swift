/// A payment being processed, as hooks see it.
public struct PaymentAttempt: Sendable {
    public var request: ServerRequest
    /// The matched route pattern, e.g. `GET /weather`.
    public var route: String
    public var payload: AnyPaymentPayload
    /// The server's own requirement the payment matched.
    public var requirements: AnyPaymentRequirements
    public var identity: PaymentIdentity
}

/// What a hook run before verification decides.
public enum BeforeVerifyDecision: Sendable {
    /// Go on with verification.
    case proceed
    /// Answer with this response; the payment is not used.
    case abort(ServerResponse)
    /// Serve the resource without charging (e.g. the payer holds a subscription).
    case grantAccess
}

/// What a hook decides at a later step.
public enum HookDecision: Sendable {
    case proceed
    /// Answer with this response instead. After settlement, the `PAYMENT-RESPONSE` header is
    /// still added, because the money has moved.
    case abort(ServerResponse)
}

/// Why a paid request was not served.
public enum PaymentFailure: Sendable, Equatable {
    /// The payment chose no offered requirement.
    case noMatchingRequirements
    /// The payment was already settled, or is being processed by another request.
    case replayed(PaymentRecord)
    case verificationFailed(VerifyResponse)
    case settlementFailed(SettleResponse)
    /// The facilitator could not be asked or answered nonsense.
    case facilitatorFault(FacilitatorClientError)
    case storeUnavailable(PaymentStateStoreError)
    /// The route's requirements could not be computed (pricing closure failed, unknown scheme).
    case requirementsUnavailable(String)
    /// The payment's `payment-identifier` id is missing (where required), malformed, or bound to
    /// another payment.
    case paymentIdentifier(PaymentIdentifierProblem)
}

/// What a failure hook decides.
public enum FailureDecision: Sendable {
    /// Send the server's standard answer for this failure.
    case useDefault
    /// Send this response instead (the handler's output is still never released).
    case respond(ServerResponse)
}

/// Callbacks around verification and settlement. Each returns a decision instead of throwing.
public struct ServerHooks: Sendable {
    public var beforeVerify: (@Sendable (PaymentAttempt) async -> BeforeVerifyDecision)?
    public var afterVerify: (@Sendable (PaymentAttempt, VerifyResponse) async -> HookDecision)?
    public var beforeSettle: (@Sendable (PaymentAttempt) async -> HookDecision)?
    public var afterSettle: (@Sendable (PaymentAttempt, SettleResponse) async -> HookDecision)?
    /// Called for every failure of a request that carried a payment, with the request.
    public var onFailure: (@Sendable (ServerRequest, PaymentFailure) async -> FailureDecision)?

    public init(
        beforeVerify: (@Sendable (PaymentAttempt) async -> BeforeVerifyDecision)? = nil,
        afterVerify: (@Sendable (PaymentAttempt, VerifyResponse) async -> HookDecision)? = nil,
        beforeSettle: (@Sendable (PaymentAttempt) async -> HookDecision)? = nil,
        afterSettle: (@Sendable (PaymentAttempt, SettleResponse) async -> HookDecision)? = nil,
        onFailure: (@Sendable (ServerRequest, PaymentFailure) async -> FailureDecision)? = nil
    ) {
        self.beforeVerify = beforeVerify
        self.afterVerify = afterVerify
        self.beforeSettle = beforeSettle
        self.afterSettle = afterSettle
        self.onFailure = onFailure
    }
}

extension ErrorReason {
    /// The payment was already settled; a replay.
    public static let paymentAlreadyUsed: ErrorReason = "payment_already_used"
    /// The same payment is being processed by another request right now.
    public static let paymentInProgress: ErrorReason = "payment_in_progress"
}
