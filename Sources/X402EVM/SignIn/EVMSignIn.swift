public import X402

/// Verifies `eip155:*` sign-in proofs: the EIP-4361 text signed with EIP-191 `personal_sign`.
///
/// An externally owned account is checked by recovering the signer (low-s only). When the
/// recovered signer is not the address, or the signature is not 65 bytes, and a node is
/// configured, a contract wallet at the address is asked through ERC-1271
/// `isValidSignature(hash, signature)` with an `eth_call`. ERC-6492 wrapped signatures (for
/// wallets not yet deployed) are refused.
public struct EVMSignInVerifier: SignInSignatureVerifier {
    public let namespace = "eip155"
    /// The node for ERC-1271 checks, per chain id (the number after `eip155:`); chains without
    /// one accept only externally owned accounts.
    public var clients: [UInt64: any EthereumClient]

    /// A verifier for externally owned accounts and, where a node is given, contract wallets.
    ///
    /// - Parameter clients: Nodes for ERC-1271 checks, by chain id (default: none).
    public init(clients: [UInt64: any EthereumClient] = [:]) {
        self.clients = clients
    }

    public func verify(_ proof: SignInWithXProof, message: String) async -> Result<String, SignInWithXFailure> {
        let address: EthereumAddress
        do { address = try EthereumAddress(proof.address) } catch {
            return .failure(SignInWithXFailure(.siwxMalformedSignature, "address is not an EIP-55 address"))
        }
        guard let chain = SignInMessage.evmChainNumber(proof.chainID) else {
            return .failure(SignInWithXFailure(.siwxChainID, "chain id must be eip155:<decimal>"))
        }
        let bytes: [UInt8]
        do { bytes = try Hex.decode(proof.signature) } catch {
            return .failure(SignInWithXFailure(.siwxMalformedSignature, "signature is not hex"))
        }
        guard !bytes.isEmpty else { return .failure(SignInWithXFailure(.siwxMalformedSignature, "empty signature")) }
        if ERC6492Signature.isWrapped(bytes) {
            return .failure(SignInWithXFailure(.siwxMalformedSignature, "ERC-6492 signatures (undeployed wallets) are not accepted"))
        }
        let digest = EIP191.personalMessageHash(Array(message.utf8))
        if bytes.count == 65, let signature = try? Signature(bytes: bytes), let signer = try? signature.recoverSigner(digest: digest),
            signer == address
        {
            return .success(address.lowercased)
        }
        guard let client = clients[chain] else {
            return .failure(
                SignInWithXFailure(
                    bytes.count == 65 ? .siwxSignature : .siwxMalformedSignature,
                    bytes.count == 65 ? "signature verification failed" : "signature must be 65 bytes"))
        }
        do {
            let code = try await client.code(at: address, at: .latest)
            guard !code.isEmpty else { return .failure(SignInWithXFailure(.siwxSignature, "signature verification failed")) }
            let answer = try await client.call(CallRequest(to: address, data: EIP3009Calls.isValidSignature(digest, bytes)), at: .latest)
            guard EIP3009Calls.isERC1271MagicWord(answer) else {
                return .failure(SignInWithXFailure(.siwxSignature, "the contract wallet does not accept the signature"))
            }
            return .success(address.lowercased)
        } catch .node {
            return .failure(SignInWithXFailure(.siwxSignature, "the contract wallet does not accept the signature"))
        } catch {
            return .failure(SignInWithXFailure(.siwxVerifierError, "could not ask the node: \(error)"))
        }
    }
}

/// Signs sign-in messages for an EVM account with EIP-191 `personal_sign`.
public struct EVMSignInSigner: SignInSigner {
    public let signatureType = SignInSignatureType.eip191
    private let key: PrivateKey

    /// A signer for `key`'s account.
    public init(key: PrivateKey) {
        self.key = key
    }

    public var address: String { key.address.checksummed }

    public func signMessage(_ message: String) async throws -> String {
        key.signPersonalMessage(Array(message.utf8)).hexString
    }
}
