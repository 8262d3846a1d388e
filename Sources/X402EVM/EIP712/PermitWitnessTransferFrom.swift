public import X402

/// Permit2 constants used by x402.
public enum Permit2 {
    /// The canonical Permit2 deployment (same address on every chain).
    public static let address = try! EthereumAddress("0x000000000022D473030F116dDEE9F6B43aC78BA3")
    /// `x402ExactPermit2Proxy`, the spender for the `exact` scheme.
    public static let exactProxyAddress = try! EthereumAddress("0x402085c248EeA27D92E8b30b2C58ed07f9E20001")
    /// `x402UptoPermit2Proxy`, the spender for the `upto` scheme.
    public static let uptoProxyAddress = try! EthereumAddress("0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002")

    /// Permit2's EIP-712 domain on `chainId`: name "Permit2", no version.
    public static func domain(chainId: UInt256) -> EIP712Domain {
        EIP712Domain(name: "Permit2", chainId: chainId, verifyingContract: address)
    }
}

/// Permit2 `PermitWitnessTransferFrom` with the x402 witness: what a payer signs for the Permit2 path.
///
/// The witness is `Witness(address to,uint256 validAfter)` for `exact`, and
/// `Witness(address to,address facilitator,uint256 validAfter)` for `upto` (when ``Witness/facilitator`` is set).
public struct PermitWitnessTransferFrom: Sendable, Hashable, Codable {
    /// `TokenPermissions(address token,uint256 amount)`.
    public struct TokenPermissions: Sendable, Hashable, Codable {
        public var token: EthereumAddress
        public var amount: UInt256

        public init(token: EthereumAddress, amount: UInt256) {
            self.token = token
            self.amount = amount
        }

        public static let typeString = "TokenPermissions(address token,uint256 amount)"
        public static let typeHash = Keccak256.hash(utf8: typeString)

        public var structHash: Bytes32 {
            let typeHash = Self.typeHash
            return EIP712.hashWords(3) { writer in
                writer.append(typeHash)
                writer.append(token)
                writer.append(amount)
            }
        }
    }

    /// The x402 witness.
    public struct Witness: Sendable, Hashable, Codable {
        public var to: EthereumAddress
        /// Present only for the `upto` scheme.
        public var facilitator: EthereumAddress?
        public var validAfter: UInt256

        public init(to: EthereumAddress, facilitator: EthereumAddress? = nil, validAfter: UInt256) {
            self.to = to
            self.facilitator = facilitator
            self.validAfter = validAfter
        }

        public static let exactTypeString = "Witness(address to,uint256 validAfter)"
        public static let uptoTypeString = "Witness(address to,address facilitator,uint256 validAfter)"
        static let exactTypeHash = Keccak256.hash(utf8: exactTypeString)
        static let uptoTypeHash = Keccak256.hash(utf8: uptoTypeString)

        /// The witness type string for this shape.
        public var typeString: String { facilitator == nil ? Self.exactTypeString : Self.uptoTypeString }

        public var structHash: Bytes32 {
            if let facilitator {
                let typeHash = Self.uptoTypeHash
                return EIP712.hashWords(4) { writer in
                    writer.append(typeHash)
                    writer.append(to)
                    writer.append(facilitator)
                    writer.append(validAfter)
                }
            }
            let typeHash = Self.exactTypeHash
            return EIP712.hashWords(3) { writer in
                writer.append(typeHash)
                writer.append(to)
                writer.append(validAfter)
            }
        }
    }

    public var permitted: TokenPermissions
    public var spender: EthereumAddress
    public var nonce: UInt256
    public var deadline: UInt256
    public var witness: Witness

    public init(permitted: TokenPermissions, spender: EthereumAddress, nonce: UInt256, deadline: UInt256, witness: Witness) {
        self.permitted = permitted
        self.spender = spender
        self.nonce = nonce
        self.deadline = deadline
        self.witness = witness
    }

    public static let typeName = "PermitWitnessTransferFrom"
    private static let primaryTypePrefix =
        "PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,Witness witness)"
    /// The full type string for the `exact` witness (`0xebc156cd…`).
    public static let exactTypeString = primaryTypePrefix + TokenPermissions.typeString + Witness.exactTypeString
    /// The full type string for the `upto` witness (`0x51dff697…`).
    public static let uptoTypeString = primaryTypePrefix + TokenPermissions.typeString + Witness.uptoTypeString
    static let exactTypeHash = Keccak256.hash(utf8: exactTypeString)
    static let uptoTypeHash = Keccak256.hash(utf8: uptoTypeString)

    /// Reads a typed-data `message` object (`permitted`, `spender`, `nonce`, `deadline`, `witness`).
    ///
    /// - Parameter message: The message object; a `witness.facilitator` member selects the `upto` witness.
    /// - Throws: ``TypedDataError/missingValue(path:)`` or ``TypedDataError/invalidValue(path:type:reason:)``
    ///   naming the offending member (e.g. `message.permitted.amount`).
    public init(message: JSONValue) throws(TypedDataError) {
        let reader = MessageReader(object: message, path: "message")
        let permitted = try reader.nested("permitted")
        let witness = try reader.nested("witness")
        var facilitator: EthereumAddress?
        if case let .object(members) = witness.object, members["facilitator"] != nil {
            facilitator = try witness.address("facilitator")
        }
        self.init(
            permitted: TokenPermissions(token: try permitted.address("token"), amount: try permitted.uint("amount")),
            spender: try reader.address("spender"), nonce: try reader.uint("nonce"), deadline: try reader.uint("deadline"),
            witness: Witness(to: try witness.address("to"), facilitator: facilitator, validAfter: try witness.uint("validAfter"))
        )
    }

    /// `hashStruct(PermitWitnessTransferFrom, self)`.
    public var structHash: Bytes32 {
        let typeHash = witness.facilitator == nil ? Self.exactTypeHash : Self.uptoTypeHash
        let permittedHash = permitted.structHash
        let witnessHash = witness.structHash
        return EIP712.hashWords(6) { writer in
            writer.append(typeHash)
            writer.append(permittedHash)
            writer.append(spender)
            writer.append(nonce)
            writer.append(deadline)
            writer.append(witnessHash)
        }
    }

    /// The EIP-712 digest under Permit2's domain on `chainId`.
    public func digest(chainId: UInt256) -> Bytes32 {
        digest(in: Permit2.domain(chainId: chainId))
    }

    /// The EIP-712 digest in `domain`.
    public func digest(in domain: EIP712Domain) -> Bytes32 {
        domain.digest(structHash: structHash)
    }

    /// Signs under Permit2's domain on `chainId`.
    public func sign(with key: PrivateKey, chainId: UInt256) -> Signature {
        key.sign(digest: digest(chainId: chainId))
    }

    /// The address that produced `signature` under Permit2's domain on `chainId`.
    public func recoverSigner(of signature: Signature, chainId: UInt256) throws(SignatureError) -> EthereumAddress {
        try signature.recoverSigner(digest: digest(chainId: chainId))
    }

    /// The full `eth_signTypedData_v4` form under Permit2's domain on `chainId`.
    public func typedData(chainId: UInt256) -> TypedData {
        let domain = Permit2.domain(chainId: chainId)
        var witnessFields: [TypedData.Field] = [.init(name: "to", type: "address")]
        if witness.facilitator != nil { witnessFields.append(.init(name: "facilitator", type: "address")) }
        witnessFields.append(.init(name: "validAfter", type: "uint256"))
        let types: [String: [TypedData.Field]] = [
            "EIP712Domain": domain.fields,
            Self.typeName: [
                .init(name: "permitted", type: "TokenPermissions"), .init(name: "spender", type: "address"),
                .init(name: "nonce", type: "uint256"), .init(name: "deadline", type: "uint256"),
                .init(name: "witness", type: "Witness"),
            ],
            "TokenPermissions": [.init(name: "token", type: "address"), .init(name: "amount", type: "uint256")],
            "Witness": witnessFields,
        ]
        var witnessMembers: JSONObject = ["to": .string(witness.to.checksummed)]
        if let facilitator = witness.facilitator { witnessMembers["facilitator"] = .string(facilitator.checksummed) }
        witnessMembers["validAfter"] = .string(witness.validAfter.decimalString)
        let message: JSONValue = .object([
            "permitted": .object(["token": .string(permitted.token.checksummed), "amount": .string(permitted.amount.decimalString)]),
            "spender": .string(spender.checksummed), "nonce": .string(nonce.decimalString),
            "deadline": .string(deadline.decimalString), "witness": .object(witnessMembers),
        ])
        return TypedData(types: types, primaryType: Self.typeName, domain: domain.jsonValue, message: message)
    }
}
