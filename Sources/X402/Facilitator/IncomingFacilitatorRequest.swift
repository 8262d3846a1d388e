/// A `/verify` or `/settle` body as received: either a request the core can model, or a
/// well-formed request for a protocol version it does not know (answered with
/// `invalid_x402_version`, not rejected as malformed).
public enum IncomingFacilitatorRequest: Sendable, Equatable {
    case payment(FacilitatorRequest)
    /// `paymentPayload.x402Version` is an integer other than 1 or 2. `network` is
    /// `paymentRequirements.network` when it is a string (echoed in the settle answer), else `""`.
    case unsupportedVersion(Int, network: String)

    /// Decodes a request body.
    ///
    /// - Throws: ``MessageDecodingError`` naming the member at fault when the body is not an
    ///   object, a required member is missing or has the wrong type, or a value is malformed.
    public init(json: JSONValue) throws(MessageDecodingError) {
        let r = try JSONReader(json)
        let payload = try r.required("paymentPayload")
        let payloadReader = try JSONReader(payload, path: "paymentPayload")
        let version = try payloadReader.int("x402Version")
        if X402Version(rawValue: version) == nil {
            let requirements = try r.required("paymentRequirements")
            _ = try JSONReader(requirements, path: "paymentRequirements")
            self = .unsupportedVersion(version, network: requirements["network"]?.stringValue ?? "")
            return
        }
        self = .payment(try FacilitatorRequest(json: json))
    }

    /// Parses and decodes a request body.
    public init(jsonBytes: some Collection<UInt8>) throws(X402DecodingError) {
        let value: JSONValue
        do { value = try JSONValue(parsing: jsonBytes) } catch { throw .invalidJSON(error) }
        do { try self.init(json: value) } catch { throw .invalidMessage(error) }
    }

    /// The network as carried in the request (for the `network` of a settle answer).
    public var networkIdentifier: String {
        switch self {
        case .payment(let request): request.paymentPayload.networkIdentifier
        case .unsupportedVersion(_, let network): network
        }
    }
}
