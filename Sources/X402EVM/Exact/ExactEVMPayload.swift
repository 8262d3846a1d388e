public import X402

/// The `payload` of an `exact` EVM payment on the EIP-3009 path:
/// `{"authorization": {from, to, value, validAfter, validBefore, nonce}, "signature": "0x…"}`.
///
/// The signature is kept as raw bytes: 65 bytes for an EOA, longer for smart wallets (ERC-1271)
/// and ERC-6492 wrapped signatures.
public struct ExactEVMPayload: Sendable, Hashable {
    public var authorization: TransferWithAuthorization
    public var signature: [UInt8]

    public init(authorization: TransferWithAuthorization, signature: [UInt8]) {
        self.authorization = authorization
        self.signature = signature
    }

    /// The JSON object (authorization first, then signature, as the TypeScript client writes it).
    public var json: JSONObject {
        let a = authorization
        let authorizationObject: JSONObject = [
            "from": .string(a.from.checksummed),
            "to": .string(a.to.checksummed),
            "value": .string(a.value.decimalString),
            "validAfter": .string(a.validAfter.decimalString),
            "validBefore": .string(a.validBefore.decimalString),
            "nonce": .string(a.nonce.hexString),
        ]
        return ["authorization": .object(authorizationObject), "signature": .string(Hex.encode(signature))]
    }

    /// Reads a payload object. Integers may be decimal strings (what every SDK sends) or JSON
    /// integers; addresses are accepted in any case (the signature binds their bytes).
    public init(json: JSONObject) throws(ExactEVMPayloadError) {
        guard let authorizationValue = json["authorization"] else { throw .missingAuthorization }
        guard let object = authorizationValue.objectValue else { throw .malformedAuthorization("authorization is not an object") }
        guard let signatureValue = json["signature"], !signatureValue.isNull else { throw .missingSignature }
        guard let signatureText = signatureValue.stringValue else { throw .malformedSignature("signature is not a string") }
        guard signatureText.hasPrefix("0x") || signatureText.hasPrefix("0X"), let bytes = try? Hex.decode(signatureText),
            !bytes.isEmpty
        else { throw .malformedSignature("signature is not 0x-prefixed hex") }

        func address(_ key: String) throws(ExactEVMPayloadError) -> EthereumAddress {
            guard let text = object[key]?.stringValue else { throw .malformedAuthorization("authorization.\(key) is missing or not a string") }
            do { return try EthereumAddress(text, validatingChecksum: false) } catch {
                throw .malformedAuthorization("authorization.\(key): \(error.description)")
            }
        }
        func integer(_ key: String) throws(ExactEVMPayloadError) -> UInt256 {
            let parsed: UInt256?
            switch object[key] {
            case .string(let text)?: parsed = Self.parseUnsigned(text)
            case .number(let number)?: parsed = UInt256(decimal: number.literal)
            default: throw .malformedAuthorization("authorization.\(key) is missing or not a decimal string")
            }
            guard let parsed else { throw .malformedAuthorization("authorization.\(key) is not an unsigned 256-bit integer") }
            return parsed
        }
        guard let nonceText = object["nonce"]?.stringValue, nonceText.hasPrefix("0x") || nonceText.hasPrefix("0X"),
            nonceText.utf8.count == 66, let nonce = try? Bytes32(hex: nonceText)
        else { throw .malformedAuthorization("authorization.nonce must be 0x followed by 64 hex digits") }

        authorization = TransferWithAuthorization(
            from: try address("from"), to: try address("to"), value: try integer("value"),
            validAfter: try integer("validAfter"), validBefore: try integer("validBefore"), nonce: nonce)
        signature = bytes
    }

    /// Decimal digits only (no sign, no spaces); `0x` hex is tolerated as some clients emit it.
    static func parseUnsigned(_ text: String) -> UInt256? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt256(hex: text) }
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return UInt256(decimal: text)
    }
}

/// Why an `exact` EVM payload object could not be read; each case maps to a wire reason.
public enum ExactEVMPayloadError: Error, Sendable, Hashable, CustomStringConvertible {
    case missingAuthorization
    case malformedAuthorization(String)
    case missingSignature
    case malformedSignature(String)

    /// The reason string reported to the resource server.
    public var reason: ErrorReason {
        switch self {
        case .missingAuthorization, .malformedAuthorization: .exactEVMPayload
        case .missingSignature: .exactEVMPayloadMissingSignature
        case .malformedSignature: .exactEVMSignatureFormat
        }
    }

    public var description: String {
        switch self {
        case .missingAuthorization: "payload has no authorization object"
        case .malformedAuthorization(let detail): detail
        case .missingSignature: "payload has no signature"
        case .malformedSignature(let detail): detail
        }
    }
}
