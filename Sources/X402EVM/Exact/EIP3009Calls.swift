public import X402

/// Calldata and decoding for the token and Multicall3 calls the `exact` facilitator makes.
public enum EIP3009Calls {
    /// `transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)`, selector `0xe3ee160e`.
    public static let transferWithVRS =
        "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"
    /// `transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)`, selector `0xcf092995`
    /// (USDC ≥ 2.2, for ERC-1271 wallets).
    public static let transferWithBytes = "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"
    /// Multicall3, deployed at the same address on every chain that matters.
    public static let multicall3 = try! EthereumAddress("0xcA11bde05977b3631167028862bE2a173976CA11")
    /// `keccak256("Transfer(address,address,uint256)")`.
    public static let transferTopic = Keccak256.hash(utf8: "Transfer(address,address,uint256)")
    /// `keccak256("AuthorizationUsed(address,bytes32)")` (EIP-3009).
    public static let authorizationUsedTopic = Keccak256.hash(utf8: "AuthorizationUsed(address,bytes32)")
    /// ERC-1271 magic value `0x1626ba7e`.
    public static let erc1271MagicValue: [UInt8] = [0x16, 0x26, 0xBA, 0x7E]

    /// Calldata of `transferWithAuthorization`: the `(v, r, s)` overload for a 65-byte
    /// signature, the `bytes` overload otherwise.
    public static func transfer(_ authorization: TransferWithAuthorization, signature: [UInt8]) -> [UInt8] {
        let a = authorization
        var arguments: [ABIValue] = [
            .address(a.from), .address(a.to), .uint(a.value), .uint(a.validAfter), .uint(a.validBefore), .bytes32(a.nonce),
        ]
        if signature.count == 65 {
            arguments += [.uint(UInt256(UInt64(signature[64]))), .fixedBytes(Array(signature[0..<32])), .fixedBytes(Array(signature[32..<64]))]
            return try! ABI.encodeCall(transferWithVRS, arguments)
        }
        arguments.append(.bytes(signature))
        return try! ABI.encodeCall(transferWithBytes, arguments)
    }

    /// `authorizationState(address,bytes32)`.
    public static func authorizationState(_ authorizer: EthereumAddress, _ nonce: Bytes32) -> [UInt8] {
        try! ABI.encodeCall("authorizationState(address,bytes32)", [.address(authorizer), .bytes32(nonce)])
    }

    /// `balanceOf(address)`.
    public static func balanceOf(_ owner: EthereumAddress) -> [UInt8] {
        try! ABI.encodeCall("balanceOf(address)", [.address(owner)])
    }

    /// `name()`.
    public static let name: [UInt8] = ABI.selector("name()")
    /// `version()`.
    public static let version: [UInt8] = ABI.selector("version()")
    /// `DOMAIN_SEPARATOR()`.
    public static let domainSeparator: [UInt8] = ABI.selector("DOMAIN_SEPARATOR()")

    /// `isValidSignature(bytes32,bytes)` (ERC-1271).
    public static func isValidSignature(_ digest: Bytes32, _ signature: [UInt8]) -> [UInt8] {
        try! ABI.encodeCall("isValidSignature(bytes32,bytes)", [.bytes32(digest), .bytes(signature)])
    }

    /// Multicall3 `tryAggregate(requireSuccess, calls)`; with `requireSuccess` the whole call
    /// reverts when one call does (what a gas estimate of a batch needs).
    public static func tryAggregate(_ calls: [(target: EthereumAddress, data: [UInt8])], requireSuccess: Bool = false) -> [UInt8] {
        let tuples = calls.map { ABIValue.tuple([.address($0.target), .bytes($0.data)]) }
        return try! ABI.encodeCall("tryAggregate(bool,(address,bytes)[])", [.bool(requireSuccess), .array(tuples)])
    }

    /// Multicall3 `aggregate3(calls)` with `allowFailure` set on every call: each call runs in
    /// turn on the state the earlier ones left, and a failing call is reported, not propagated.
    /// The answer decodes with ``decodeTryAggregate(_:)`` (same `(bool,bytes)[]` shape).
    public static func aggregate3(_ calls: [(target: EthereumAddress, data: [UInt8])]) -> [UInt8] {
        let tuples = calls.map { ABIValue.tuple([.address($0.target), .bool(true), .bytes($0.data)]) }
        return try! ABI.encodeCall("aggregate3((address,bool,bytes)[])", [.array(tuples)])
    }

    /// Whether an `isValidSignature` answer is the ERC-1271 magic value as USDC's
    /// `SignatureChecker` reads it: at least one 32-byte word, equal to `0x1626ba7e` followed by
    /// 28 zero bytes. A bare 4-byte answer or an echo of the calldata is not.
    public static func isERC1271MagicWord(_ answer: [UInt8]) -> Bool {
        guard answer.count >= 32, Array(answer[0..<4]) == erc1271MagicValue else { return false }
        return answer[4..<32].allSatisfy { $0 == 0 }
    }

    /// Decodes `tryAggregate`'s `(bool success, bytes returnData)[]`.
    public static func decodeTryAggregate(_ data: [UInt8]) -> [(success: Bool, data: [UInt8])]? {
        guard let values = try? ABI.decode(["(bool,bytes)[]"], from: data), let items = values.first?.elements else { return nil }
        var results: [(success: Bool, data: [UInt8])] = []
        for item in items {
            guard let fields = item.elements, fields.count == 2, let ok = fields[0].boolValue, let bytes = fields[1].bytesValue else {
                return nil
            }
            results.append((ok, bytes))
        }
        return results
    }

    /// Whether a receipt's logs contain the token's `Transfer(from, to, value)` event.
    public static func containsTransfer(
        _ logs: [EventLog], token: EthereumAddress, from: EthereumAddress, to: EthereumAddress, value: UInt256
    ) -> Bool {
        logs.contains { log in
            log.address == token && log.topics.count == 3 && log.topics[0] == transferTopic && log.topics[1] == from.word
                && log.topics[2] == to.word && log.data.count == 32 && UInt256(bigEndian: log.data) == value
        }
    }

    /// Whether the token's logs in a receipt prove that `authorization` moved its money: the
    /// token's `AuthorizationUsed(from, nonce)` event next to its `Transfer(from, to, value)` among
    /// the token's own events: right after it (USDC's order), or right before it when that
    /// `Transfer` does not itself follow another `AuthorizationUsed`.
    ///
    /// This is the proof for a transaction that settles several authorizations (a Multicall3
    /// batch): a `Transfer` alone could belong to another authorization with the same payer, payee
    /// and value, but an authorization's `AuthorizationUsed` event is emitted once, ever, by the call
    /// that consumed it, and a reverted call leaves no events.
    public static func settlesAuthorization(_ logs: [EventLog], token: EthereumAddress, _ authorization: TransferWithAuthorization) -> Bool {
        let own = logs.filter { $0.address == token }
        func isTransfer(_ index: Int) -> Bool {
            guard own.indices.contains(index) else { return false }
            let log = own[index]
            return log.topics.count == 3 && log.topics[0] == transferTopic && log.topics[1] == authorization.from.word
                && log.topics[2] == authorization.to.word && log.data.count == 32 && UInt256(bigEndian: log.data) == authorization.value
        }
        for (index, log) in own.enumerated()
        where log.topics.count == 3 && log.topics[0] == authorizationUsedTopic && log.topics[1] == authorization.from.word
            && log.topics[2] == authorization.nonce
        {
            if isTransfer(index + 1) { return true }
            let claimed = index >= 2 && own[index - 2].topics.first == authorizationUsedTopic
            return isTransfer(index - 1) && !claimed
        }
        return false
    }

    /// Whether a receipt's logs contain the token's `AuthorizationUsed(authorizer, nonce)` event.
    public static func containsAuthorizationUsed(
        _ logs: [EventLog], token: EthereumAddress, authorizer: EthereumAddress, nonce: Bytes32
    ) -> Bool {
        logs.contains { log in
            log.address == token && log.topics.count == 3 && log.topics[0] == authorizationUsedTopic && log.topics[1] == authorizer.word
                && log.topics[2] == nonce
        }
    }
}
