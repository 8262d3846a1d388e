public import X402

/// Reads EIP-3009 `authorizationState(authorizer, nonce)` through JSON-RPC, for the buyer's
/// spend reconciliation (`SpendReconciler`).
///
/// ```swift
/// // `JSONRPCClient` is in the X402EVMRPC module; any `EthereumClient` will do.
/// let reader = EVMAuthorizationStateReader(clients: ["eip155:8453": JSONRPCClient(url: rpcURL)])
/// let summary = try await payer.reconcile(using: reader)
/// ```
///
/// Before trusting a node, the reader checks that its `eth_chainId` is the record's chain: a
/// node for another chain would answer "unused" for any nonce.
public struct EVMAuthorizationStateReader: AuthorizationStateReader {
    /// A node per CAIP-2 network.
    public var clients: [String: any EthereumClient]

    public init(clients: [String: any EthereumClient]) {
        self.clients = clients
    }

    public func authorizationUse(network: String, asset: String, authorization: SignedAuthorization) async throws -> AuthorizationUse {
        guard let chainID = Network(network)?.chainID else { throw AuthorizationStateReadError.unsupportedNetwork(network) }
        guard let client = clients[network] else { throw AuthorizationStateReadError.noNode(network) }
        guard let token = try? EthereumAddress(asset, validatingChecksum: false) else {
            throw AuthorizationStateReadError.invalidRecord("asset \(asset)")
        }
        guard let authorizer = try? EthereumAddress(authorization.authorizer, validatingChecksum: false) else {
            throw AuthorizationStateReadError.invalidRecord("authorizer \(authorization.authorizer)")
        }
        guard let nonce = try? Bytes32(hex: authorization.nonce) else {
            throw AuthorizationStateReadError.invalidRecord("nonce \(authorization.nonce)")
        }
        let served = try await client.chainID()
        guard served == chainID else { throw AuthorizationStateReadError.wrongChain(expected: chainID, served: served) }
        let answer = try await client.call(CallRequest(to: token, data: EIP3009Calls.authorizationState(authorizer, nonce)), at: .latest)
        guard let used = (try? ABI.decode([.bool], from: answer))?.first?.boolValue else {
            throw AuthorizationStateReadError.notEIP3009(asset)
        }
        return used ? .used : .unused
    }
}

/// Why an authorization's state could not be read (the record then keeps counting).
public enum AuthorizationStateReadError: Error, Sendable, Hashable, CustomStringConvertible {
    case unsupportedNetwork(String)
    case noNode(String)
    case invalidRecord(String)
    case wrongChain(expected: UInt64, served: UInt64)
    case notEIP3009(String)

    public var description: String {
        switch self {
        case .unsupportedNetwork(let n): "network \(n) is not an EVM chain"
        case .noNode(let n): "no JSON-RPC node configured for \(n)"
        case .invalidRecord(let what): "the ledger record has an unreadable \(what)"
        case .wrongChain(let expected, let served): "the node serves chain \(served), not \(expected)"
        case .notEIP3009(let asset): "\(asset) did not answer authorizationState"
        }
    }
}
