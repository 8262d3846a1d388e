extension AnyPaymentPayload {
    /// Wraps a signed scheme payload for the chosen offer of a 402 answer.
    ///
    /// - v2: `accepted` is `offer` verbatim, `resource` is copied from the answer, and
    ///   `extensions` echoes every server extension with the scheme's additions merged in (for a
    ///   key present in both, the two objects are merged shallowly, the scheme's members winning).
    /// - v1: scheme and network (the offer's v1 name) at top level.
    public init(paying offer: AnyPaymentRequirements, of required: AnyPaymentRequired, with signed: SchemePayload) {
        switch offer {
        case .v1(let r):
            self = .v1(PaymentPayloadV1(scheme: r.scheme, network: r.network, payload: signed.payload))
        case .v2(let r):
            let extensions = Self.merge(server: required.extensions, client: signed.extensions)
            self = .v2(PaymentPayload(resource: required.resource, accepted: r, payload: signed.payload, extensions: extensions))
        }
    }

    static func merge(server: JSONObject?, client: JSONObject?) -> JSONObject? {
        guard let client else { return server }
        var merged = server ?? [:]
        for (key, value) in client {
            if case .object(let mine)? = merged[key], case .object(let theirs) = value {
                merged[key] = .object(mine.merging(theirs))
            } else {
                merged[key] = value
            }
        }
        return merged
    }

    /// The request header that carries this payment: `PAYMENT-SIGNATURE` (v2) or `X-PAYMENT` (v1).
    public var headerName: String { version.paymentHeaderName }
}

extension X402Version {
    /// The request header a payment of this version travels in.
    public var paymentHeaderName: String {
        switch self {
        case .v1: PaymentHeaderName.xPayment
        case .v2: PaymentHeaderName.paymentSignature
        }
    }
}

extension SettleResponse {
    /// Decodes the settlement receipt of a paid response: `PAYMENT-RESPONSE`, else
    /// `X-PAYMENT-RESPONSE`; `nil` when neither header is present.
    ///
    /// - Parameter header: looks a response header up by name (case-insensitively).
    public static func fromResponseHeaders(_ header: (String) -> String?) throws(X402DecodingError) -> SettleResponse? {
        guard let value = header(PaymentHeaderName.paymentResponse) ?? header(PaymentHeaderName.xPaymentResponse) else { return nil }
        return try SettleResponse(headerValue: value)
    }
}
