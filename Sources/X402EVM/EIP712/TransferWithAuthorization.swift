public import X402

/// EIP-3009 `TransferWithAuthorization`: the message an `exact`-scheme payer signs for USDC-like tokens.
///
/// `Codable` uses the x402 `authorization` JSON shape: addresses checksummed, integers as decimal
/// strings, `nonce` as `0x` + 64 hex digits.
public struct TransferWithAuthorization: Sendable, Hashable, Codable {
    public var from: EthereumAddress
    public var to: EthereumAddress
    public var value: UInt256
    public var validAfter: UInt256
    public var validBefore: UInt256
    public var nonce: Bytes32

    public init(
        from: EthereumAddress, to: EthereumAddress, value: UInt256,
        validAfter: UInt256, validBefore: UInt256, nonce: Bytes32
    ) {
        self.from = from
        self.to = to
        self.value = value
        self.validAfter = validAfter
        self.validBefore = validBefore
        self.nonce = nonce
    }

    /// The primary type name.
    public static let typeName = "TransferWithAuthorization"
    /// The EIP-712 type string.
    public static let typeString =
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    /// `0x7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267`.
    public static let typeHash = Keccak256.hash(utf8: typeString)
    /// The struct definitions for typed data.
    public static let types: [String: [TypedData.Field]] = [
        typeName: [
            .init(name: "from", type: "address"), .init(name: "to", type: "address"),
            .init(name: "value", type: "uint256"), .init(name: "validAfter", type: "uint256"),
            .init(name: "validBefore", type: "uint256"), .init(name: "nonce", type: "bytes32"),
        ]
    ]

    /// Reads the x402 `authorization` object (integers as decimal strings or JSON numbers).
    ///
    /// - Parameter object: The `authorization` (or typed-data `message`) JSON object; addresses
    ///   must carry a valid EIP-55 checksum if mixed-case.
    /// - Throws: ``TypedDataError/missingValue(path:)`` or ``TypedDataError/invalidValue(path:type:reason:)``
    ///   naming the offending member (e.g. `authorization.value`).
    public init(_ object: JSONValue) throws(TypedDataError) {
        let reader = MessageReader(object: object, path: "authorization")
        self.init(
            from: try reader.address("from"), to: try reader.address("to"), value: try reader.uint("value"),
            validAfter: try reader.uint("validAfter"), validBefore: try reader.uint("validBefore"), nonce: try reader.bytes32("nonce")
        )
    }

    /// `hashStruct(TransferWithAuthorization, self)`.
    public var structHash: Bytes32 {
        let typeHash = Self.typeHash
        return EIP712.hashWords(7) { writer in
            writer.append(typeHash)
            writer.append(from)
            writer.append(to)
            writer.append(value)
            writer.append(validAfter)
            writer.append(validBefore)
            writer.append(nonce)
        }
    }

    /// The EIP-712 digest in `domain` (the token's domain: name, version, chainId, token address).
    public func digest(in domain: EIP712Domain) -> Bytes32 {
        domain.digest(structHash: structHash)
    }

    /// Signs the authorization.
    public func sign(with key: PrivateKey, in domain: EIP712Domain) -> Signature {
        key.sign(digest: digest(in: domain))
    }

    /// The address that produced `signature` over this authorization.
    public func recoverSigner(of signature: Signature, in domain: EIP712Domain) throws(SignatureError) -> EthereumAddress {
        try signature.recoverSigner(digest: digest(in: domain))
    }

    /// The message as a typed-data JSON object, members in type order (integers as decimal strings).
    public var messageValue: JSONValue {
        .object([
            "from": .string(from.checksummed), "to": .string(to.checksummed), "value": .string(value.decimalString),
            "validAfter": .string(validAfter.decimalString), "validBefore": .string(validBefore.decimalString),
            "nonce": .string(nonce.hexString),
        ])
    }

    /// The full `eth_signTypedData_v4` form.
    public func typedData(in domain: EIP712Domain) -> TypedData {
        var types = Self.types
        types["EIP712Domain"] = domain.fields
        return TypedData(types: types, primaryType: Self.typeName, domain: domain.jsonValue, message: messageValue)
    }
}

/// Reads typed message fields with precise error paths.
struct MessageReader {
    let object: JSONValue
    let path: String

    func member(_ key: String) throws(TypedDataError) -> JSONValue {
        guard case let .object(members) = object else {
            throw .invalidValue(path: path, type: "object", reason: "expected a JSON object")
        }
        guard let value = members[key] else { throw .missingValue(path: "\(path).\(key)") }
        return value
    }

    func nested(_ key: String) throws(TypedDataError) -> MessageReader {
        MessageReader(object: try member(key), path: "\(path).\(key)")
    }

    func address(_ key: String) throws(TypedDataError) -> EthereumAddress {
        guard case let .string(text) = try member(key) else {
            throw .invalidValue(path: "\(path).\(key)", type: "address", reason: "expected an address string")
        }
        do {
            return try EthereumAddress(text)
        } catch {
            throw .invalidValue(path: "\(path).\(key)", type: "address", reason: error.description)
        }
    }

    func uint(_ key: String) throws(TypedDataError) -> UInt256 {
        let fieldPath = "\(path).\(key)"
        return try TypedDataEncoder.unsignedInteger(try member(key)) { .invalidValue(path: fieldPath, type: "uint256", reason: $0) }
    }

    func bytes32(_ key: String) throws(TypedDataError) -> Bytes32 {
        guard case let .string(text) = try member(key), text.hasHexPrefix, let value = try? Bytes32(hex: text) else {
            throw .invalidValue(path: "\(path).\(key)", type: "bytes32", reason: "expected 0x + 64 hex digits")
        }
        return value
    }
}
