/// The 402 answer of protocol v2 (sent base64-encoded in `PAYMENT-REQUIRED`).
public struct PaymentRequired: Sendable, Equatable, Codable, JSONRepresentable {
    public var x402Version: X402Version { .v2 }
    /// Why payment is required (or why the last payment was rejected).
    public var error: String?
    public var resource: ResourceInfo?
    /// The ways the server accepts payment, in its order of preference.
    public var accepts: [PaymentRequirements]
    /// Extension declarations keyed by extension name.
    public var extensions: JSONObject?

    public init(error: String? = nil, resource: ResourceInfo?, accepts: [PaymentRequirements], extensions: JSONObject? = nil) {
        self.error = error
        self.resource = resource
        self.accepts = accepts
        self.extensions = extensions
    }

    public init(json: JSONValue) throws(MessageDecodingError) {
        let r = try JSONReader(json)
        try X402Version.v2.expect(in: r)
        error = try r.optionalString("error")
        resource = try r.value("resource").map { v throws(MessageDecodingError) in try ResourceInfo(json: v, path: "resource") }
        accepts = try r.list("accepts") { v, p throws(MessageDecodingError) in try PaymentRequirements(json: v, path: p) }
        extensions = try r.optionalObject("extensions")
    }

    public var json: JSONValue {
        var w = JSONWriter()
        w.set("x402Version", X402Version.v2.rawValue)
        w.setIfPresent("error", error)
        w.setIfPresent("resource", resource?.json)
        w.set("accepts", .array(accepts.map(\.json)))
        w.setIfPresent("extensions", extensions)
        return w.value
    }
}

/// The 402 answer of protocol v1 (sent as the JSON body; spec name `PaymentRequirementsResponse`).
public struct PaymentRequiredV1: Sendable, Equatable, Codable, JSONRepresentable {
    public var x402Version: X402Version { .v1 }
    public var error: String?
    public var accepts: [PaymentRequirementsV1]
    /// Non-standard members legacy servers add (e.g. `payer` after a failed verify).
    public var additionalMembers: JSONObject

    public init(error: String? = nil, accepts: [PaymentRequirementsV1], additionalMembers: JSONObject = [:]) {
        self.error = error
        self.accepts = accepts
        self.additionalMembers = additionalMembers
    }

    public init(json: JSONValue) throws(MessageDecodingError) {
        let r = try JSONReader(json)
        try X402Version.v1.expect(in: r)
        error = try r.optionalString("error")
        accepts = try r.list("accepts") { v, p throws(MessageDecodingError) in try PaymentRequirementsV1(json: v, path: p) }
        additionalMembers = r.unknownMembers(known: ["x402Version", "error", "accepts"])
    }

    public var json: JSONValue {
        var w = JSONWriter()
        w.set("x402Version", X402Version.v1.rawValue)
        w.setIfPresent("error", error)
        w.set("accepts", .array(accepts.map(\.json)))
        w.append(additionalMembers)
        return w.value
    }
}

/// A 402 answer of either version, as one model a client can act on.
public enum AnyPaymentRequired: Sendable, Equatable {
    case v1(PaymentRequiredV1)
    case v2(PaymentRequired)

    public var version: X402Version {
        switch self {
        case .v1: .v1
        case .v2: .v2
        }
    }

    public var error: String? {
        switch self {
        case .v1(let p): p.error
        case .v2(let p): p.error
        }
    }

    /// The resource, for v2 answers.
    public var resource: ResourceInfo? {
        if case .v2(let p) = self { return p.resource }
        return nil
    }

    /// Server extensions, for v2 answers.
    public var extensions: JSONObject? {
        if case .v2(let p) = self { return p.extensions }
        return nil
    }

    /// Every offered requirement in its wire form, in the server's order.
    public var accepts: [AnyPaymentRequirements] {
        switch self {
        case .v1(let p): p.accepts.map { .v1($0) }
        case .v2(let p): p.accepts.map { .v2($0) }
        }
    }

    public var json: JSONValue {
        switch self {
        case .v1(let p): p.json
        case .v2(let p): p.json
        }
    }

    /// Decodes a 402 object of either version, dispatching on `x402Version`.
    public init(json: JSONValue) throws(MessageDecodingError) {
        switch try X402Version.detect(in: json) {
        case .v1: self = .v1(try PaymentRequiredV1(json: json))
        case .v2: self = .v2(try PaymentRequired(json: json))
        }
    }
}
