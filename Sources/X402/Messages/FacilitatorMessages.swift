/// The body of `POST /verify` and `POST /settle`.
public struct FacilitatorRequest: Sendable, Equatable, Codable, JSONRepresentable {
    /// The payment as received from the client.
    public var paymentPayload: AnyPaymentPayload
    /// The resource server's own matching requirement (never the client's `accepted`).
    public var paymentRequirements: AnyPaymentRequirements

    /// Copy of `paymentPayload`'s version.
    public var x402Version: X402Version { paymentPayload.version }

    public init(paymentPayload: AnyPaymentPayload, paymentRequirements: AnyPaymentRequirements) {
        self.paymentPayload = paymentPayload
        self.paymentRequirements = paymentRequirements
    }

    /// Decodes a request. The payload's own `x402Version` decides the requirement format; the
    /// top-level `x402Version` is ignored (facilitator-api.md: the version is taken from
    /// `paymentPayload.x402Version`), so every kind a facilitator advertises gets a verdict
    /// whatever a caller puts there.
    public init(json: JSONValue) throws(MessageDecodingError) {
        let r = try JSONReader(json)
        let payload = try AnyPaymentPayload(json: try r.required("paymentPayload"), path: "paymentPayload")
        // The top-level `x402Version` is not read: callers differ in what they put there (the Go
        // e2e facilitator sends 1 for every request; a client may send the API's 2 beside a v1
        // payload), and the payment's own version is the one that decides how it is checked.
        paymentPayload = payload
        paymentRequirements = try AnyPaymentRequirements(
            json: try r.required("paymentRequirements"), version: payload.version, path: "paymentRequirements")
    }

    public var json: JSONValue {
        var w = JSONWriter()
        w.set("x402Version", x402Version.rawValue)
        w.set("paymentPayload", paymentPayload.json)
        w.set("paymentRequirements", paymentRequirements.json)
        return w.value
    }
}

/// The body of `POST /verify`.
public typealias VerifyRequest = FacilitatorRequest
/// The body of `POST /settle`.
public typealias SettleRequest = FacilitatorRequest

/// The answer of `POST /verify`.
public struct VerifyResponse: Sendable, Equatable, Codable, JSONRepresentable {
    public var isValid: Bool
    /// Machine-readable reason when `isValid` is false.
    public var invalidReason: ErrorReason?
    /// Human-readable detail.
    public var invalidMessage: String?
    /// The payer's address.
    public var payer: String?
    public var extensions: JSONObject?

    public init(
        isValid: Bool, invalidReason: ErrorReason? = nil, invalidMessage: String? = nil, payer: String? = nil,
        extensions: JSONObject? = nil
    ) {
        self.isValid = isValid
        self.invalidReason = invalidReason
        self.invalidMessage = invalidMessage
        self.payer = payer
        self.extensions = extensions
    }

    /// A positive result.
    public static func valid(payer: String) -> VerifyResponse { VerifyResponse(isValid: true, payer: payer) }

    /// A negative result.
    public static func invalid(_ reason: ErrorReason, message: String? = nil, payer: String? = nil) -> VerifyResponse {
        VerifyResponse(isValid: false, invalidReason: reason, invalidMessage: message, payer: payer)
    }

    public init(json: JSONValue) throws(MessageDecodingError) {
        let r = try JSONReader(json)
        isValid = try r.bool("isValid")
        let reason: String? = try r.optionalString("invalidReason")
        invalidReason = reason.map { ErrorReason(rawValue: $0) }
        // x402-rs names the detail `invalidReasonDetails`.
        let message: String? = try r.optionalString("invalidMessage")
        let details: String? = try r.optionalString("invalidReasonDetails")
        invalidMessage = message ?? details
        payer = try r.optionalString("payer")
        extensions = try r.optionalObject("extensions")
    }

    public var json: JSONValue {
        var w = JSONWriter()
        w.set("isValid", isValid)
        w.setIfPresent("invalidReason", invalidReason?.rawValue)
        w.setIfPresent("invalidMessage", invalidMessage)
        w.setIfPresent("payer", payer)
        w.setIfPresent("extensions", extensions)
        return w.value
    }
}

/// The answer of `POST /settle`, and the content of `PAYMENT-RESPONSE` / `X-PAYMENT-RESPONSE`.
public struct SettleResponse: Sendable, Equatable, Codable, JSONRepresentable {
    public var success: Bool
    public var errorReason: ErrorReason?
    public var errorMessage: String?
    /// Transaction hash (EVM) or signature (Solana); empty on failure.
    public var transaction: String
    /// The network as carried in the payment (v1 name for v1, CAIP-2 for v2).
    public var network: String
    public var payer: String?
    /// The settled atomic amount (`upto`).
    public var amount: String?
    public var extensions: JSONObject?

    public init(
        success: Bool, errorReason: ErrorReason? = nil, errorMessage: String? = nil, transaction: String, network: String,
        payer: String? = nil, amount: String? = nil, extensions: JSONObject? = nil
    ) {
        self.success = success
        self.errorReason = errorReason
        self.errorMessage = errorMessage
        self.transaction = transaction
        self.network = network
        self.payer = payer
        self.amount = amount
        self.extensions = extensions
    }

    /// A failed settlement.
    public static func failure(
        _ reason: ErrorReason, message: String? = nil, network: String, payer: String? = nil, transaction: String = ""
    ) -> SettleResponse {
        SettleResponse(
            success: false, errorReason: reason, errorMessage: message, transaction: transaction, network: network, payer: payer)
    }

    /// The network resolved to CAIP-2, if known.
    public var resolvedNetwork: Network? { Network(identifierOrLegacyName: network) }

    /// Decodes leniently: `success` is required; a missing `transaction` or `network` (seen from
    /// non-chain rails) reads as an empty string.
    public init(json: JSONValue) throws(MessageDecodingError) {
        let r = try JSONReader(json)
        success = try r.bool("success")
        let reason: String? = try r.optionalString("errorReason")
        errorReason = reason.map { ErrorReason(rawValue: $0) }
        errorMessage = try r.optionalString("errorMessage")
        let tx: String? = try r.optionalString("transaction")
        transaction = tx ?? ""
        let net: String? = try r.optionalString("network")
        network = net ?? ""
        payer = try r.optionalString("payer")
        amount = try r.optionalString("amount")
        extensions = try r.optionalObject("extensions")
    }

    public var json: JSONValue {
        var w = JSONWriter()
        w.set("success", success)
        w.setIfPresent("errorReason", errorReason?.rawValue)
        w.setIfPresent("errorMessage", errorMessage)
        w.set("transaction", transaction)
        w.set("network", network)
        w.setIfPresent("payer", payer)
        w.setIfPresent("amount", amount)
        w.setIfPresent("extensions", extensions)
        return w.value
    }
}

/// One (version, scheme, network) a facilitator serves.
public struct SupportedKind: Sendable, Hashable, Codable, JSONRepresentable {
    public var x402Version: X402Version
    public var scheme: String
    /// v1 name for v1 kinds, CAIP-2 for v2 kinds.
    public var network: String
    /// Scheme hints such as Solana `feePayer` or upto `facilitatorAddress`.
    public var extra: JSONObject?

    public init(x402Version: X402Version, scheme: String, network: String, extra: JSONObject? = nil) {
        self.x402Version = x402Version
        self.scheme = scheme
        self.network = network
        self.extra = extra
    }

    public init(json: JSONValue) throws(MessageDecodingError) { try self.init(json: json, path: "") }

    init(json: JSONValue, path: String) throws(MessageDecodingError) {
        let r = try JSONReader(json, path: path)
        let v = try X402Version.read(from: r)
        x402Version = v
        scheme = try r.string("scheme")
        network = try r.string("network")
        extra = try r.optionalObject("extra")
    }

    public var json: JSONValue {
        var w = JSONWriter()
        w.set("x402Version", x402Version.rawValue)
        w.set("scheme", scheme)
        w.set("network", network)
        w.setIfPresent("extra", extra)
        return w.value
    }
}

/// The answer of `GET /supported`.
public struct SupportedResponse: Sendable, Equatable, Codable, JSONRepresentable {
    public var kinds: [SupportedKind]
    /// Extension keys the facilitator implements.
    public var extensions: [String]
    /// Facilitator addresses by CAIP family pattern (`eip155:*`).
    public var signers: [String: [String]]

    public init(kinds: [SupportedKind], extensions: [String] = [], signers: [String: [String]] = [:]) {
        self.kinds = kinds
        self.extensions = extensions
        self.signers = signers
    }

    /// Decodes leniently: v1-only facilitators send just `kinds`.
    public init(json: JSONValue) throws(MessageDecodingError) {
        let r = try JSONReader(json)
        kinds = try r.list("kinds") { v, p throws(MessageDecodingError) in try SupportedKind(json: v, path: p) }
        extensions = try Self.strings(try r.optionalArray("extensions") ?? [], path: "extensions")
        var signers: [String: [String]] = [:]
        let families: JSONObject = try r.optionalObject("signers") ?? JSONObject()
        for (family, list) in families {
            guard let items = list.arrayValue else {
                throw MessageDecodingError(path: "signers.\(family)", problem: .wrongType(expected: "an array", found: list.typeName))
            }
            signers[family] = try Self.strings(items, path: "signers.\(family)")
        }
        self.signers = signers
    }

    private static func strings(_ items: [JSONValue], path: String) throws(MessageDecodingError) -> [String] {
        var result: [String] = []
        for (i, v) in items.enumerated() {
            guard let s = v.stringValue else {
                throw MessageDecodingError(path: "\(path)[\(i)]", problem: .wrongType(expected: "a string", found: v.typeName))
            }
            result.append(s)
        }
        return result
    }

    public var json: JSONValue {
        var w = JSONWriter()
        w.set("kinds", JSONValue.array(kinds.map { $0.json }))
        w.set("extensions", JSONValue.array(extensions.map { JSONValue.string($0) }))
        var s = JSONObject()
        for family in signers.keys.sorted() {
            let addresses: [String] = signers[family] ?? []
            s.appendUnchecked(family, JSONValue.array(addresses.map { JSONValue.string($0) }))
        }
        w.set("signers", s)
        return w.value
    }

    /// The kind for a (version, scheme, network), if supported.
    public func kind(version: X402Version, scheme: String, network: String) -> SupportedKind? {
        kinds.first { $0.x402Version == version && $0.scheme == scheme && $0.network == network }
    }
}
