public import X402

/// Verifies `eip155:*` sign-in proofs: the EIP-4361 text signed with EIP-191 `personal_sign`.
///
/// An externally owned account is checked by recovering the signer (low-s only). When the
/// recovered signer is not the address, or the signature is not 65 bytes, and a node is
/// configured, a contract wallet at the address is asked through ERC-1271
/// `isValidSignature(hash, signature)` with an `eth_call`.
///
/// ERC-6492 wrapped signatures (contract wallets not deployed yet) are checked only through a
/// factory on ``erc6492Factories``, failing closed: one `eth_call` of Multicall3 `tryAggregate`
/// runs the factory call and then the new wallet's `isValidSignature` in a simulation (nothing is
/// ever sent). A wrapped signature for a wallet that is already deployed is checked as ERC-1271
/// with the inner signature. Every call is capped at ``maximumValidationGas``.
public struct EVMSignInVerifier: SignInSignatureVerifier {
    public let namespace = "eip155"
    /// The node for ERC-1271 and ERC-6492 checks, per chain id (the number after `eip155:`);
    /// chains without one accept only externally owned accounts.
    public var clients: [UInt64: any EthereumClient]
    /// The only factories an undeployed (ERC-6492) wallet may be simulated through; empty (the
    /// default) refuses every undeployed wallet.
    public var erc6492Factories: Set<EthereumAddress>
    /// The gas each validation `eth_call` may use (the factory and `isValidSignature` together
    /// for ERC-6492); default 1,000,000.
    public var maximumValidationGas: UInt64

    /// A verifier for externally owned accounts and, where a node is given, contract wallets.
    ///
    /// - Parameters:
    ///   - clients: Nodes for ERC-1271 / ERC-6492 checks, by chain id (default: none).
    ///   - erc6492Factories: Factories undeployed wallets may be deployed through in the
    ///     simulation (default: none, ERC-6492 refused).
    ///   - maximumValidationGas: Gas cap of each validation call.
    public init(
        clients: [UInt64: any EthereumClient] = [:], erc6492Factories: Set<EthereumAddress> = [], maximumValidationGas: UInt64 = 1_000_000
    ) {
        self.clients = clients
        self.erc6492Factories = erc6492Factories
        self.maximumValidationGas = maximumValidationGas
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
        let digest = EIP191.personalMessageHash(Array(message.utf8))
        if ERC6492Signature.isWrapped(bytes) {
            guard let wrapped = ERC6492Signature(wrapped: bytes), !wrapped.innerSignature.isEmpty else {
                return .failure(SignInWithXFailure(.siwxMalformedSignature, "malformed ERC-6492 signature"))
            }
            return await verifyERC6492(wrapped, of: address, digest: digest, chain: chain)
        }
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
        } catch {
            return .failure(SignInWithXFailure(.siwxVerifierError, "could not ask the node: \(error)"))
        }
        return await askWallet(address, digest: digest, signature: bytes, client: client)
    }

    /// ERC-1271 `isValidSignature` of a deployed wallet, capped at ``maximumValidationGas``.
    private func askWallet(
        _ wallet: EthereumAddress, digest: Bytes32, signature: [UInt8], client: any EthereumClient
    ) async -> Result<String, SignInWithXFailure> {
        do {
            let request = CallRequest(to: wallet, data: EIP3009Calls.isValidSignature(digest, signature), gas: maximumValidationGas)
            guard EIP3009Calls.isERC1271MagicWord(try await client.call(request, at: .latest)) else {
                return .failure(SignInWithXFailure(.siwxSignature, "the contract wallet does not accept the signature"))
            }
            return .success(wallet.lowercased)
        } catch .node {
            return .failure(SignInWithXFailure(.siwxSignature, "the contract wallet does not accept the signature"))
        } catch {
            return .failure(SignInWithXFailure(.siwxVerifierError, "could not ask the node: \(error)"))
        }
    }

    /// An ERC-6492 signature: a deployed wallet is asked with the inner signature; an undeployed
    /// one only through an allowlisted factory, in one simulated Multicall3 batch.
    private func verifyERC6492(
        _ wrapped: ERC6492Signature, of wallet: EthereumAddress, digest: Bytes32, chain: UInt64
    ) async -> Result<String, SignInWithXFailure> {
        guard let client = clients[chain] else {
            return .failure(SignInWithXFailure(.siwxSignature, "ERC-6492 signatures need a node for chain \(chain); none is configured"))
        }
        let code: [UInt8]
        do { code = try await client.code(at: wallet, at: .latest) } catch {
            return .failure(SignInWithXFailure(.siwxVerifierError, "could not ask the node: \(error)"))
        }
        if !code.isEmpty { return await askWallet(wallet, digest: digest, signature: wrapped.innerSignature, client: client) }
        guard wrapped.hasDeploymentData else {
            return .failure(SignInWithXFailure(.siwxSignature, "the wallet is not deployed and the signature carries no deployment"))
        }
        guard erc6492Factories.contains(wrapped.factory) else {
            return .failure(
                SignInWithXFailure(.siwxSignature, "ERC-6492 factory \(wrapped.factory.checksummed) is not on this server's allowlist"))
        }
        let data = EIP3009Calls.tryAggregate([
            (wrapped.factory, wrapped.factoryCalldata), (wallet, EIP3009Calls.isValidSignature(digest, wrapped.innerSignature)),
        ])
        let answer: [UInt8]
        do {
            answer = try await client.call(CallRequest(to: EIP3009Calls.multicall3, data: data, gas: maximumValidationGas), at: .latest)
        } catch .node {
            return .failure(SignInWithXFailure(.siwxSignature, "the ERC-6492 simulation reverted"))
        } catch {
            return .failure(SignInWithXFailure(.siwxVerifierError, "could not ask the node: \(error)"))
        }
        guard let results = EIP3009Calls.decodeTryAggregate(answer), results.count == 2 else {
            return .failure(SignInWithXFailure(.siwxVerifierError, "the ERC-6492 simulation returned an unexpected answer"))
        }
        guard results[0].success else { return .failure(SignInWithXFailure(.siwxSignature, "the ERC-6492 factory call reverts")) }
        guard results[1].success, EIP3009Calls.isERC1271MagicWord(results[1].data) else {
            return .failure(SignInWithXFailure(.siwxSignature, "the deployed wallet would not accept the signature (ERC-6492 simulation)"))
        }
        return .success(wallet.lowercased)
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
