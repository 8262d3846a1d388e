import CSecp256k1
public import X402

extension TypedData {
    /// The EIP-712 typed data of an offer or receipt: domain `{name, version "1", chainId 1}`
    /// (no verifying contract) and the extension's fixed struct type.
    ///
    /// - Parameter payload: The offer or receipt payload.
    public init(offerReceipt payload: some OfferReceiptPayload) {
        let name = type(of: payload).eip712DomainName
        let fields = type(of: payload).eip712Fields.map { TypedData.Field(name: $0.name, type: $0.type) }
        self.init(
            types: [
                "EIP712Domain": [
                    TypedData.Field(name: "name", type: "string"), TypedData.Field(name: "version", type: "string"),
                    TypedData.Field(name: "chainId", type: "uint256"),
                ],
                type(of: payload).eip712PrimaryType: fields,
            ],
            primaryType: type(of: payload).eip712PrimaryType,
            domain: ["name": .string(name), "version": "1", "chainId": 1],
            message: payload.eip712Message)
    }
}

/// Recovers EIP-712 offer and receipt signers with libsecp256k1 (65-byte r ‖ s ‖ v, low s,
/// v 27/28 or 0/1).
public struct EIP712OfferReceiptRecoverer: EIP712OfferReceiptRecovering {
    /// A recoverer.
    public init() {}

    public func recoverSigner(of payload: some OfferReceiptPayload, signature: String) -> String? {
        guard let signature = try? Signature(hex: signature),
            let signer = try? TypedData(offerReceipt: payload).recoverSigner(of: signature)
        else { return nil }
        return signer.lowercased
    }
}

/// Signs offers and receipts as EIP-712 typed data with an EVM key (the key's address should be
/// the routes' `payTo`, the signer EIP-712 verifiers expect by default).
public struct EIP712OfferReceiptSigner: OfferReceiptSigner {
    private let key: PrivateKey

    /// A signer for `key`.
    public init(key: PrivateKey) {
        self.key = key
    }

    public var format: OfferReceiptFormat { .eip712 }
    public var signerID: String { key.address.checksummed }

    public func signature(for payload: some OfferReceiptPayload) async throws -> String {
        try TypedData(offerReceipt: payload).sign(with: key).hexString
    }
}

/// JWS `ES256K` (ECDSA over secp256k1 with SHA-256, RFC 8812) with libsecp256k1.
public struct ES256KSigningKey: JWSSigningKey {
    private let key: PrivateKey
    /// The public key as a `did:key` (secp256k1).
    public let didKey: DIDKey

    /// A JWS key for `key`.
    ///
    /// - Throws: `OfferReceiptKeyError` (not in practice: a compressed key has 33 bytes).
    public init(key: PrivateKey) throws(OfferReceiptKeyError) {
        self.key = key
        self.didKey = try DIDKey(type: .secp256k1, publicKey: key.publicKey.compressedBytes)
    }

    public var algorithm: String { "ES256K" }

    public func sign(_ signingInput: [UInt8]) throws -> [UInt8] {
        guard let digest = Bytes32(CompactJWS.sha256(signingInput)) else { throw OfferReceiptKeyError.invalidKey("SHA-256 gave no 32 bytes") }
        let signature = key.sign(digest: digest)
        return signature.r.bytes + signature.s.bytes
    }
}

/// Verifies JWS `ES256K` signatures (64 bytes r ‖ s; a high s is normalized first, as RFC 8812
/// does not require low s) with libsecp256k1.
public struct ES256KVerifier: JWSSignatureVerifying {
    /// A verifier.
    public init() {}

    public var algorithm: String { "ES256K" }
    public var keyType: DIDKey.KeyType { .secp256k1 }

    public func isValid(signature: [UInt8], signingInput: [UInt8], publicKey: DIDKey) -> Bool {
        guard signature.count == 64, publicKey.type == .secp256k1 else { return false }
        var parsedKey = secp256k1_pubkey()
        guard secp256k1_ec_pubkey_parse(Secp256k1.context, &parsedKey, publicKey.publicKey, publicKey.publicKey.count) == 1 else {
            return false
        }
        var parsed = secp256k1_ecdsa_signature()
        guard secp256k1_ecdsa_signature_parse_compact(Secp256k1.context, &parsed, signature) == 1 else { return false }
        var normalized = secp256k1_ecdsa_signature()
        _ = secp256k1_ecdsa_signature_normalize(Secp256k1.context, &normalized, &parsed)
        let digest = CompactJWS.sha256(signingInput)
        return secp256k1_ecdsa_verify(Secp256k1.context, &normalized, digest, &parsedKey) == 1
    }
}

extension OfferReceiptVerifier {
    /// A verifier for EIP-712 and JWS `ES256K` (add `EdDSAVerifier` from `X402Solana` for `EdDSA`).
    ///
    /// - Parameters:
    ///   - trust: Pinned signers.
    ///   - additionalJWS: Verifiers of further JWS algorithms (e.g. `EdDSA`).
    public static func evm(trust: OfferReceiptTrust = .none, additionalJWS: [any JWSSignatureVerifying] = []) -> OfferReceiptVerifier {
        OfferReceiptVerifier(eip712: EIP712OfferReceiptRecoverer(), jws: [ES256KVerifier()] + additionalJWS, trust: trust)
    }
}

extension OfferReceipt.Signing {
    /// Signing settings with an EVM key read from an environment variable (hex), so the key never
    /// appears in arguments or logs.
    ///
    /// - Parameters:
    ///   - format: `.eip712` (the key's address should be the routes' `payTo`) or `.jws` (`ES256K`,
    ///     `kid` = the key's `did:key`).
    ///   - environmentVariable: The variable holding the hex key.
    /// - Throws: `KeyError` when the variable is unset or not a key.
    public static func evm(format: OfferReceiptFormat, environmentVariable: String) throws -> OfferReceipt.Signing {
        try evm(format: format, key: PrivateKey(environmentVariable: environmentVariable))
    }

    /// Signing settings with an EVM key read from a file (hex; keep it `0600`).
    ///
    /// - Throws: `KeyError` when the file is unreadable or not a key.
    public static func evm(format: OfferReceiptFormat, keyFile: String) throws -> OfferReceipt.Signing {
        try evm(format: format, key: PrivateKey(contentsOfFile: keyFile))
    }

    /// Signing settings with an EVM key.
    public static func evm(format: OfferReceiptFormat, key: PrivateKey) throws -> OfferReceipt.Signing {
        switch format {
        case .eip712: OfferReceipt.Signing(signer: EIP712OfferReceiptSigner(key: key))
        case .jws: OfferReceipt.Signing(signer: JWSOfferReceiptSigner(key: try ES256KSigningKey(key: key)))
        }
    }
}
