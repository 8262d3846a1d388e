/// The one rule every server path uses to find which offered requirement a payment chose.
public enum RequirementsMatching {
    /// The index in `offered` of the requirement `payload` pays for, or `nil` if it matches none.
    ///
    /// - v2: the payload's `accepted` must equal an offered v2 requirement in full — every member,
    ///   `extra` included (`{}` and absent differ), object key order ignored, numbers by value.
    ///   This is the TypeScript reference rule and x402-rs's; it keeps a client from paying on
    ///   terms the server did not offer.
    /// - v1: the first offered v1 requirement with the same `scheme` and `network`.
    public static func indexOfAccepted(_ payload: AnyPaymentPayload, in offered: [AnyPaymentRequirements]) -> Int? {
        switch payload {
        case .v2(let p):
            let accepted = p.accepted.json
            return offered.firstIndex { offer in
                guard case .v2(let r) = offer else { return false }
                return r.json == accepted
            }
        case .v1(let p):
            return offered.firstIndex { offer in
                guard case .v1(let r) = offer else { return false }
                return r.scheme == p.scheme && r.network == p.network
            }
        }
    }

    /// The requirement `payload` pays for, or `nil`.
    public static func accepted(_ payload: AnyPaymentPayload, in offered: [AnyPaymentRequirements]) -> AnyPaymentRequirements? {
        indexOfAccepted(payload, in: offered).map { offered[$0] }
    }
}
