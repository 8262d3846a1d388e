/// What a v2 client sends in `PAYMENT-SIGNATURE`: the chosen requirement and the signed payload.
public struct PaymentPayload: Sendable, Equatable, Codable, JSONRepresentable {
    public var x402Version: X402Version { .v2 }
    /// A copy of `PaymentRequired.resource`.
    public var resource: ResourceInfo?
    /// The chosen `accepts[]` entry, echoed verbatim.
    public var accepted: PaymentRequirements
    /// Scheme-specific signed data (EVM: `authorization` + `signature`).
    public var payload: JSONObject
    /// The server's extensions echoed, with client additions.
    public var extensions: JSONObject?

    public init(resource: ResourceInfo? = nil, accepted: PaymentRequirements, payload: JSONObject, extensions: JSONObject? = nil) {
        self.resource = resource
        self.accepted = accepted
        self.payload = payload
        self.extensions = extensions
    }

    public init(json: JSONValue) throws(MessageDecodingError) { try self.init(json: json, path: "") }

    init(json: JSONValue, path: String) throws(MessageDecodingError) {
        let r = try JSONReader(json, path: path)
        try X402Version.v2.expect(in: r)
        resource = try r.value("resource").map { v throws(MessageDecodingError) in
            try ResourceInfo(json: v, path: r.childPath("resource"))
        }
        accepted = try PaymentRequirements(json: try r.required("accepted"), path: r.childPath("accepted"))
        payload = try r.object("payload")
        extensions = try r.optionalObject("extensions")
    }

    public var json: JSONValue {
        var w = JSONWriter()
        w.set("x402Version", X402Version.v2.rawValue)
        w.setIfPresent("resource", resource?.json)
        w.set("accepted", accepted.json)
        w.set("payload", payload)
        w.setIfPresent("extensions", extensions)
        return w.value
    }
}

/// What a v1 client sends in `X-PAYMENT`.
public struct PaymentPayloadV1: Sendable, Equatable, Codable, JSONRepresentable {
    public var x402Version: X402Version { .v1 }
    public var scheme: String
    /// v1 network name.
    public var network: String
    public var payload: JSONObject

    public init(scheme: String, network: String, payload: JSONObject) {
        self.scheme = scheme
        self.network = network
        self.payload = payload
    }

    public init(json: JSONValue) throws(MessageDecodingError) { try self.init(json: json, path: "") }

    init(json: JSONValue, path: String) throws(MessageDecodingError) {
        let r = try JSONReader(json, path: path)
        try X402Version.v1.expect(in: r)
        scheme = try r.string("scheme")
        network = try r.string("network")
        payload = try r.object("payload")
    }

    public var json: JSONValue {
        var w = JSONWriter()
        w.set("x402Version", X402Version.v1.rawValue)
        w.set("scheme", scheme)
        w.set("network", network)
        w.set("payload", payload)
        return w.value
    }
}

/// A payment payload of either version.
public enum AnyPaymentPayload: Sendable, Equatable, Codable, JSONRepresentable {
    case v1(PaymentPayloadV1)
    case v2(PaymentPayload)

    public var version: X402Version {
        switch self {
        case .v1: .v1
        case .v2: .v2
        }
    }

    /// The scheme the client paid with.
    public var scheme: String {
        switch self {
        case .v1(let p): p.scheme
        case .v2(let p): p.accepted.scheme
        }
    }

    /// The network as carried on the wire (v1 name or CAIP-2 identifier).
    public var networkIdentifier: String {
        switch self {
        case .v1(let p): p.network
        case .v2(let p): p.accepted.network.identifier
        }
    }

    /// The network resolved to CAIP-2, if known.
    public var network: Network? {
        switch self {
        case .v1(let p): Network(identifierOrLegacyName: p.network)
        case .v2(let p): p.accepted.network
        }
    }

    /// The scheme-specific payload object.
    public var payload: JSONObject {
        switch self {
        case .v1(let p): p.payload
        case .v2(let p): p.payload
        }
    }

    public init(json: JSONValue) throws(MessageDecodingError) { try self.init(json: json, path: "") }

    init(json: JSONValue, path: String) throws(MessageDecodingError) {
        let r = try JSONReader(json, path: path)
        switch try X402Version.read(from: r) {
        case .v1: self = .v1(try PaymentPayloadV1(json: json, path: path))
        case .v2: self = .v2(try PaymentPayload(json: json, path: path))
        }
    }

    public var json: JSONValue {
        switch self {
        case .v1(let p): p.json
        case .v2(let p): p.json
        }
    }
}
