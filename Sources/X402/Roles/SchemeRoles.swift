/// What a client knows about the payment it is about to make, beyond the chosen requirement.
public struct PaymentContext: Sendable {
    /// The protocol version of the 402 answer being paid.
    public var version: X402Version
    /// `PaymentRequired.resource` (v2).
    public var resource: ResourceInfo?
    /// The server's declared extensions (v2).
    public var extensions: JSONObject?

    public init(version: X402Version, resource: ResourceInfo? = nil, extensions: JSONObject? = nil) {
        self.version = version
        self.resource = resource
        self.extensions = extensions
    }
}

/// A signed scheme payload, ready to be wrapped in a `PaymentPayload`.
public struct SchemePayload: Sendable, Equatable {
    /// The scheme-specific `payload` object.
    public var payload: JSONObject
    /// Extension data the scheme adds (merged over the server's extensions).
    public var extensions: JSONObject?

    public init(payload: JSONObject, extensions: JSONObject? = nil) {
        self.payload = payload
        self.extensions = extensions
    }
}

/// The buyer's side of a scheme on a family of networks: signs a payment for one requirement.
public protocol SchemeClient: Sendable {
    /// The scheme name, e.g. `exact`.
    var scheme: String { get }

    /// Creates the signed payload for `requirements`.
    ///
    /// Requirements are given in v2 form (a v1 requirement is normalised first: CAIP-2 network,
    /// `amount`); `context.version` says which version's payload is being built.
    func createPayload(for requirements: PaymentRequirements, context: PaymentContext) async throws -> SchemePayload
}

/// The seller's side of a scheme: turns prices into requirements.
public protocol SchemeServer: Sendable {
    var scheme: String { get }

    /// Resolves a price to an asset amount on `network` (money → the default stablecoin).
    func assetAmount(for price: Price, on network: Network) throws -> AssetAmount

    /// Completes requirements with data the facilitator supplies (`/supported` kind `extra`,
    /// such as a Solana fee payer). The default returns them unchanged.
    func enhance(
        _ requirements: PaymentRequirements, supportedKind: SupportedKind?, facilitatorExtensions: [String]
    ) async throws
        -> PaymentRequirements
}

extension SchemeServer {
    public func enhance(
        _ requirements: PaymentRequirements, supportedKind: SupportedKind?, facilitatorExtensions: [String]
    ) async throws
        -> PaymentRequirements
    {
        requirements
    }
}

/// The facilitator's side of a scheme: verifies and settles payments on its networks.
///
/// Both operations report every failure in their result (`isValid: false` / `success: false`
/// with a reason); they do not throw.
public protocol SchemeFacilitator: Sendable {
    var scheme: String { get }

    /// The CAIP family this implementation serves (`eip155:*`), the key of `/supported` signers.
    var family: NetworkPattern { get }

    /// Checks a payment against the resource server's requirements without moving funds.
    func verify(_ payload: AnyPaymentPayload, requirements: AnyPaymentRequirements) async -> VerifyResponse

    /// Verifies again, executes the transfer and waits for its confirmation.
    func settle(_ payload: AnyPaymentPayload, requirements: AnyPaymentRequirements) async -> SettleResponse

    /// `extra` to advertise for `network` in `/supported` (e.g. a fee payer); `nil` for none.
    func supportedExtra(for network: Network) async -> JSONObject?

    /// Addresses this facilitator signs or pays from on `network`.
    func signers(for network: Network) -> [String]
}

extension SchemeFacilitator {
    public func supportedExtra(for network: Network) async -> JSONObject? { nil }
}
