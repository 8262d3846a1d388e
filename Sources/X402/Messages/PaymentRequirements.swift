/// Describes the protected resource (v2 `PaymentRequired.resource`).
public struct ResourceInfo: Sendable, Equatable, Codable, JSONRepresentable {
    /// URL of the resource (`mcp://tool/<name>` for MCP tools).
    public var url: String
    public var description: String?
    public var mimeType: String?
    /// Members this implementation does not model (e.g. newer `serviceName`, `tags`), kept so the
    /// object echoes back unchanged.
    public var additionalMembers: JSONObject

    public init(url: String, description: String? = nil, mimeType: String? = nil, additionalMembers: JSONObject = [:]) {
        self.url = url
        self.description = description
        self.mimeType = mimeType
        self.additionalMembers = additionalMembers
    }

    static let knownKeys: Set<String> = ["url", "description", "mimeType"]

    public init(json: JSONValue) throws(MessageDecodingError) { try self.init(json: json, path: "") }

    init(json: JSONValue, path: String) throws(MessageDecodingError) {
        let r = try JSONReader(json, path: path)
        url = try r.string("url")
        description = try r.optionalString("description")
        mimeType = try r.optionalString("mimeType")
        additionalMembers = r.unknownMembers(known: Self.knownKeys)
    }

    public var json: JSONValue {
        var w = JSONWriter()
        w.set("url", url)
        w.setIfPresent("description", description)
        w.setIfPresent("mimeType", mimeType)
        w.append(additionalMembers)
        return w.value
    }
}

/// One way to pay for a resource (v2): an entry of `accepts[]`, and the `accepted` echo.
public struct PaymentRequirements: Sendable, Equatable, Codable, JSONRepresentable {
    /// Payment scheme, e.g. `exact` or `upto`.
    public var scheme: String
    public var network: Network
    /// Amount in the asset's atomic units, as a decimal string (kept verbatim for the echo).
    public var amount: String
    /// Token contract (EVM), mint (Solana) or currency code.
    public var asset: String
    /// Recipient address.
    public var payTo: String
    /// How long the payment authorization may stay valid; absent only on some non-chain rails.
    public var maxTimeoutSeconds: Int?
    /// Scheme-specific data (EVM: EIP-712 `name`/`version`; Solana: `feePayer`).
    public var extra: JSONObject?
    /// Members this implementation does not model, kept for an exact echo.
    public var additionalMembers: JSONObject

    public init(
        scheme: String, network: Network, amount: String, asset: String, payTo: String,
        maxTimeoutSeconds: Int? = 300, extra: JSONObject? = nil, additionalMembers: JSONObject = [:]
    ) {
        self.scheme = scheme
        self.network = network
        self.amount = amount
        self.asset = asset
        self.payTo = payTo
        self.maxTimeoutSeconds = maxTimeoutSeconds
        self.extra = extra
        self.additionalMembers = additionalMembers
    }

    /// The amount as an integer, if it is a valid decimal uint256.
    public var atomicAmount: UInt256? { UInt256(decimal: amount) }

    static let knownKeys: Set<String> = ["scheme", "network", "amount", "asset", "payTo", "maxTimeoutSeconds", "extra"]

    public init(json: JSONValue) throws(MessageDecodingError) { try self.init(json: json, path: "") }

    init(json: JSONValue, path: String) throws(MessageDecodingError) {
        let r = try JSONReader(json, path: path)
        scheme = try r.string("scheme")
        guard !scheme.isEmpty else {
            throw MessageDecodingError(path: r.childPath("scheme"), problem: .invalidValue("must not be empty"))
        }
        network = try decodeNetwork(try r.string("network"), path: r.childPath("network"))
        amount = try r.string("amount")
        asset = try r.string("asset")
        payTo = try r.string("payTo")
        maxTimeoutSeconds = try r.optionalInt("maxTimeoutSeconds")
        extra = try r.optionalObject("extra")
        additionalMembers = r.unknownMembers(known: Self.knownKeys)
    }

    public var json: JSONValue {
        var w = JSONWriter()
        w.set("scheme", scheme)
        w.set("network", network.identifier)
        w.set("amount", amount)
        w.set("asset", asset)
        w.set("payTo", payTo)
        w.setIfPresent("maxTimeoutSeconds", maxTimeoutSeconds)
        w.setIfPresent("extra", extra)
        w.append(additionalMembers)
        return w.value
    }
}

/// One way to pay for a resource in protocol v1 (`PaymentRequirementsV1`).
public struct PaymentRequirementsV1: Sendable, Equatable, Codable, JSONRepresentable {
    public var scheme: String
    /// v1 network name such as `base-sepolia`.
    public var network: String
    /// Atomic amount; despite the name, the exact scheme requires exactly this amount.
    public var maxAmountRequired: String
    /// Full URL of the resource.
    public var resource: String
    public var description: String?
    public var mimeType: String?
    public var payTo: String
    public var maxTimeoutSeconds: Int
    public var asset: String
    /// Legacy discovery schema; `.null` is kept when a server sent `null`.
    public var outputSchema: JSONValue?
    public var extra: JSONObject?
    public var additionalMembers: JSONObject

    public init(
        scheme: String, network: String, maxAmountRequired: String, resource: String, description: String? = "",
        mimeType: String? = "", payTo: String, maxTimeoutSeconds: Int = 60, asset: String,
        outputSchema: JSONValue? = nil, extra: JSONObject? = nil, additionalMembers: JSONObject = [:]
    ) {
        self.scheme = scheme
        self.network = network
        self.maxAmountRequired = maxAmountRequired
        self.resource = resource
        self.description = description
        self.mimeType = mimeType
        self.payTo = payTo
        self.maxTimeoutSeconds = maxTimeoutSeconds
        self.asset = asset
        self.outputSchema = outputSchema
        self.extra = extra
        self.additionalMembers = additionalMembers
    }

    /// The CAIP-2 network for the v1 name, if known.
    public var resolvedNetwork: Network? { Network(identifierOrLegacyName: network) }

    static let knownKeys: Set<String> = [
        "scheme", "network", "maxAmountRequired", "resource", "description", "mimeType", "payTo",
        "maxTimeoutSeconds", "asset", "outputSchema", "extra",
    ]

    public init(json: JSONValue) throws(MessageDecodingError) { try self.init(json: json, path: "") }

    init(json: JSONValue, path: String) throws(MessageDecodingError) {
        let r = try JSONReader(json, path: path)
        scheme = try r.string("scheme")
        network = try r.string("network")
        maxAmountRequired = try r.string("maxAmountRequired")
        resource = try r.string("resource")
        description = try r.optionalString("description")
        mimeType = try r.optionalString("mimeType")
        payTo = try r.string("payTo")
        maxTimeoutSeconds = try r.int("maxTimeoutSeconds")
        asset = try r.string("asset")
        outputSchema = r.object["outputSchema"]
        extra = try r.optionalObject("extra")
        additionalMembers = r.unknownMembers(known: Self.knownKeys)
    }

    public var json: JSONValue {
        var w = JSONWriter()
        w.set("scheme", scheme)
        w.set("network", network)
        w.set("maxAmountRequired", maxAmountRequired)
        w.set("resource", resource)
        w.setIfPresent("description", description)
        w.setIfPresent("mimeType", mimeType)
        w.set("payTo", payTo)
        w.set("maxTimeoutSeconds", maxTimeoutSeconds)
        w.set("asset", asset)
        w.setIfPresent("outputSchema", outputSchema)
        w.setIfPresent("extra", extra)
        w.append(additionalMembers)
        return w.value
    }

    /// The same requirement in v2 form (CAIP-2 network, `amount`), for scheme code that handles
    /// both versions; `nil` if the network name is unknown.
    public var normalized: PaymentRequirements? {
        guard let network = resolvedNetwork else { return nil }
        return PaymentRequirements(
            scheme: scheme, network: network, amount: maxAmountRequired, asset: asset, payTo: payTo,
            maxTimeoutSeconds: maxTimeoutSeconds, extra: extra)
    }
}

/// Payment requirements of either protocol version.
public enum AnyPaymentRequirements: Sendable, Equatable {
    case v1(PaymentRequirementsV1)
    case v2(PaymentRequirements)

    public var version: X402Version {
        switch self {
        case .v1: .v1
        case .v2: .v2
        }
    }

    public var scheme: String {
        switch self {
        case .v1(let r): r.scheme
        case .v2(let r): r.scheme
        }
    }

    /// The network as carried on the wire (v1 name or CAIP-2 identifier).
    public var networkIdentifier: String {
        switch self {
        case .v1(let r): r.network
        case .v2(let r): r.network.identifier
        }
    }

    /// The requirement in v2 form; `nil` for a v1 requirement on an unknown network name.
    public var normalized: PaymentRequirements? {
        switch self {
        case .v1(let r): r.normalized
        case .v2(let r): r
        }
    }

    public var json: JSONValue {
        switch self {
        case .v1(let r): r.json
        case .v2(let r): r.json
        }
    }

    /// Decodes requirements of a known version.
    public init(json: JSONValue, version: X402Version, path: String = "") throws(MessageDecodingError) {
        switch version {
        case .v1: self = .v1(try PaymentRequirementsV1(json: json, path: path))
        case .v2: self = .v2(try PaymentRequirements(json: json, path: path))
        }
    }
}
