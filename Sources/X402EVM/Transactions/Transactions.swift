public import X402

/// One EIP-2930 access list entry.
public struct AccessListEntry: Sendable, Hashable, Codable {
    public var address: EthereumAddress
    public var storageKeys: [Bytes32]

    public init(address: EthereumAddress, storageKeys: [Bytes32] = []) {
        self.address = address
        self.storageKeys = storageKeys
    }

    var rlp: RLPItem { .list([.address(address), .list(storageKeys.map { .bytes($0.bytes) })]) }
}

/// A pre-EIP-2718 transaction, signed per EIP-155 when `chainId` is set.
public struct LegacyTransaction: Sendable, Hashable {
    public var chainId: UInt64?
    public var nonce: UInt64
    public var gasPrice: UInt256
    public var gasLimit: UInt64
    /// `nil` creates a contract.
    public var to: EthereumAddress?
    public var value: UInt256
    public var data: [UInt8]

    public init(
        chainId: UInt64?, nonce: UInt64, gasPrice: UInt256, gasLimit: UInt64,
        to: EthereumAddress?, value: UInt256 = .zero, data: [UInt8] = []
    ) {
        self.chainId = chainId
        self.nonce = nonce
        self.gasPrice = gasPrice
        self.gasLimit = gasLimit
        self.to = to
        self.value = value
        self.data = data
    }

    private var fields: [RLPItem] {
        [.uint(nonce), .uint(gasPrice), .uint(gasLimit), .address(to), .uint(value), .bytes(data)]
    }

    /// `keccak256(rlp([nonce, gasPrice, gas, to, value, data, chainId, 0, 0]))` (EIP-155), or without
    /// the last three fields when `chainId` is `nil`.
    public var signingHash: Bytes32 {
        var items = fields
        if let chainId { items += [.uint(chainId), .bytes([]), .bytes([])] }
        return Keccak256.hash(RLPItem.list(items).encoded)
    }

    /// Signs, binding the chain id into `v` (`chainId * 2 + 35 + recoveryID`).
    public func signed(with key: PrivateKey) -> SignedTransaction {
        let signature = key.sign(digest: signingHash)
        return SignedTransaction(legacy: self, signature: signature, from: key.address)
    }

    func rawEncoding(signature: Signature) -> [UInt8] {
        let v: UInt256
        if let chainId {
            v = UInt256(chainId) * 2 + UInt256(35 + UInt64(signature.recoveryID))
        } else {
            v = UInt256(UInt64(signature.v))
        }
        return RLPItem.list(fields + [.uint(v), .uint(signature.r.uint256), .uint(signature.s.uint256)]).encoded
    }
}

/// An EIP-1559 (type 2) transaction.
public struct EIP1559Transaction: Sendable, Hashable {
    public var chainId: UInt64
    public var nonce: UInt64
    public var maxPriorityFeePerGas: UInt256
    public var maxFeePerGas: UInt256
    public var gasLimit: UInt64
    /// `nil` creates a contract.
    public var to: EthereumAddress?
    public var value: UInt256
    public var data: [UInt8]
    public var accessList: [AccessListEntry]

    /// The EIP-2718 type byte.
    public static let type: UInt8 = 0x02

    public init(
        chainId: UInt64, nonce: UInt64, maxPriorityFeePerGas: UInt256, maxFeePerGas: UInt256, gasLimit: UInt64,
        to: EthereumAddress?, value: UInt256 = .zero, data: [UInt8] = [], accessList: [AccessListEntry] = []
    ) {
        self.chainId = chainId
        self.nonce = nonce
        self.maxPriorityFeePerGas = maxPriorityFeePerGas
        self.maxFeePerGas = maxFeePerGas
        self.gasLimit = gasLimit
        self.to = to
        self.value = value
        self.data = data
        self.accessList = accessList
    }

    private var fields: [RLPItem] {
        [
            .uint(chainId), .uint(nonce), .uint(maxPriorityFeePerGas), .uint(maxFeePerGas), .uint(gasLimit),
            .address(to), .uint(value), .bytes(data), .list(accessList.map(\.rlp)),
        ]
    }

    /// `keccak256(0x02 ‖ rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gas, to, value, data, accessList]))`.
    public var signingHash: Bytes32 {
        Keccak256.hash([Self.type] + RLPItem.list(fields).encoded)
    }

    /// Signs the transaction.
    public func signed(with key: PrivateKey) -> SignedTransaction {
        let signature = key.sign(digest: signingHash)
        return SignedTransaction(eip1559: self, signature: signature, from: key.address)
    }

    func rawEncoding(signature: Signature) -> [UInt8] {
        let items = fields + [.uint(UInt64(signature.recoveryID)), .uint(signature.r.uint256), .uint(signature.s.uint256)]
        return [Self.type] + RLPItem.list(items).encoded
    }
}

/// A signed transaction ready for `eth_sendRawTransaction`.
public struct SignedTransaction: Sendable, Hashable {
    /// The unsigned transaction.
    public enum Body: Sendable, Hashable {
        case legacy(LegacyTransaction)
        case eip1559(EIP1559Transaction)
    }

    public let body: Body
    public let signature: Signature
    /// The sender (recovered or the signing key's address).
    public let from: EthereumAddress
    /// The network encoding (`rlp(...)` for legacy, `0x02 ‖ rlp(...)` for EIP-1559).
    public let rawBytes: [UInt8]
    /// `keccak256(rawBytes)`, the transaction hash.
    public let hash: Bytes32

    init(legacy: LegacyTransaction, signature: Signature, from: EthereumAddress) {
        body = .legacy(legacy)
        self.signature = signature
        self.from = from
        rawBytes = legacy.rawEncoding(signature: signature)
        hash = Keccak256.hash(rawBytes)
    }

    init(eip1559: EIP1559Transaction, signature: Signature, from: EthereumAddress) {
        body = .eip1559(eip1559)
        self.signature = signature
        self.from = from
        rawBytes = eip1559.rawEncoding(signature: signature)
        hash = Keccak256.hash(rawBytes)
    }

    /// `0x`-prefixed hex of ``rawBytes``.
    public var rawHex: String { Hex.encode(rawBytes) }

    /// The hash the sender signed.
    public var signingHash: Bytes32 {
        switch body {
        case let .legacy(transaction): transaction.signingHash
        case let .eip1559(transaction): transaction.signingHash
        }
    }

    /// Parses a raw signed legacy or EIP-1559 transaction and recovers its sender. Rejects other
    /// types, non-canonical RLP, high-s signatures and re-encodings that differ from the input.
    public init(rawBytes raw: some Collection<UInt8>) throws(TransactionError) {
        let bytes = Array(raw)
        guard let first = bytes.first else { throw .malformed("empty transaction") }
        do {
            if first >= 0xC0 {
                guard case let .list(items) = try RLPItem(decoding: bytes), items.count == 9 else {
                    throw TransactionError.malformed("legacy transaction must be an RLP list of 9 items")
                }
                let v = try items[6].uint256ValueAllowingZero()
                let recoveryID: UInt8
                var chainId: UInt64?
                if v == UInt256(27) || v == UInt256(28) {
                    recoveryID = UInt8(v.asUInt64! - 27)
                } else {
                    guard v >= UInt256(35), let small = v.asUInt64 else { throw TransactionError.malformed("invalid legacy v") }
                    recoveryID = UInt8((small - 35) % 2)
                    chainId = (small - 35) / 2
                }
                let transaction = LegacyTransaction(
                    chainId: chainId, nonce: try items[0].uint64ValueAllowingZero(), gasPrice: try items[1].uint256ValueAllowingZero(),
                    gasLimit: try items[2].uint64ValueAllowingZero(), to: try Self.recipient(items[3]),
                    value: try items[4].uint256ValueAllowingZero(), data: try Self.byteString(items[5])
                )
                let signature = try Self.signature(r: items[7], s: items[8], recoveryID: recoveryID)
                try self.init(verifying: bytes, legacy: transaction, signature: signature)
            } else if first == EIP1559Transaction.type {
                guard case let .list(items) = try RLPItem(decoding: bytes.dropFirst()), items.count == 12 else {
                    throw TransactionError.malformed("EIP-1559 transaction must be 0x02 ‖ an RLP list of 12 items")
                }
                guard case let .list(entries) = items[8] else { throw TransactionError.malformed("access list must be a list") }
                var accessList: [AccessListEntry] = []
                for entry in entries {
                    guard case let .list(pair) = entry, pair.count == 2, case let .list(keys) = pair[1],
                        let addressBytes = pair[0].bytesValue, let address = EthereumAddress(addressBytes)
                    else { throw TransactionError.malformed("invalid access list entry") }
                    var storageKeys: [Bytes32] = []
                    for key in keys {
                        guard let keyBytes = key.bytesValue, let storageKey = Bytes32(keyBytes) else {
                            throw TransactionError.malformed("invalid access list storage key")
                        }
                        storageKeys.append(storageKey)
                    }
                    accessList.append(AccessListEntry(address: address, storageKeys: storageKeys))
                }
                let yParity = try items[9].uint64ValueAllowingZero()
                guard yParity <= 1 else { throw TransactionError.malformed("yParity must be 0 or 1") }
                let transaction = EIP1559Transaction(
                    chainId: try items[0].uint64ValueAllowingZero(), nonce: try items[1].uint64ValueAllowingZero(),
                    maxPriorityFeePerGas: try items[2].uint256ValueAllowingZero(), maxFeePerGas: try items[3].uint256ValueAllowingZero(),
                    gasLimit: try items[4].uint64ValueAllowingZero(), to: try Self.recipient(items[5]),
                    value: try items[6].uint256ValueAllowingZero(), data: try Self.byteString(items[7]), accessList: accessList
                )
                let signature = try Self.signature(r: items[10], s: items[11], recoveryID: UInt8(yParity))
                try self.init(verifying: bytes, eip1559: transaction, signature: signature)
            } else {
                throw TransactionError.unsupportedType(first)
            }
        } catch let error as TransactionError {
            throw error
        } catch let error as RLPError {
            throw .rlp(error)
        } catch {
            throw .malformed("\(error)")
        }
    }

    private init(verifying raw: [UInt8], legacy: LegacyTransaction, signature: Signature) throws(TransactionError) {
        let from: EthereumAddress
        do {
            from = try signature.recoverSigner(digest: legacy.signingHash)
        } catch {
            throw .signature(error)
        }
        self.init(legacy: legacy, signature: signature, from: from)
        guard rawBytes == raw else { throw .malformed("transaction does not re-encode to the same bytes") }
    }

    private init(verifying raw: [UInt8], eip1559: EIP1559Transaction, signature: Signature) throws(TransactionError) {
        let from: EthereumAddress
        do {
            from = try signature.recoverSigner(digest: eip1559.signingHash)
        } catch {
            throw .signature(error)
        }
        self.init(eip1559: eip1559, signature: signature, from: from)
        guard rawBytes == raw else { throw .malformed("transaction does not re-encode to the same bytes") }
    }

    /// Parses `0x`-prefixed raw transaction hex.
    public init(rawHex: String) throws(TransactionError) {
        let bytes: [UInt8]
        do {
            bytes = try Hex.decode(rawHex)
        } catch {
            throw .malformed("raw transaction is not valid hex")
        }
        try self.init(rawBytes: bytes)
    }

    private static func recipient(_ item: RLPItem) throws(TransactionError) -> EthereumAddress? {
        guard case let .bytes(bytes) = item else { throw .malformed("to must be a byte string") }
        if bytes.isEmpty { return nil }
        guard let address = EthereumAddress(bytes) else { throw .malformed("to must be 20 bytes") }
        return address
    }

    private static func byteString(_ item: RLPItem) throws(TransactionError) -> [UInt8] {
        guard case let .bytes(bytes) = item else { throw .malformed("data must be a byte string") }
        return bytes
    }

    private static func signature(r: RLPItem, s: RLPItem, recoveryID: UInt8) throws(TransactionError) -> Signature {
        do {
            let rValue = try r.uint256ValueAllowingZero()
            let sValue = try s.uint256ValueAllowingZero()
            return try Signature(r: Bytes32(rValue), s: Bytes32(sValue), v: recoveryID)
        } catch let error as SignatureError {
            throw .signature(error)
        } catch {
            throw .malformed("invalid signature fields")
        }
    }
}

extension RLPItem {
    /// Integer value where the empty string is zero (the usual transaction-field convention).
    func uint256ValueAllowingZero() throws(RLPError) -> UInt256 {
        guard case let .bytes(bytes) = self else { throw .unexpectedList }
        if bytes.isEmpty { return .zero }
        return try uint256Value()
    }

    func uint64ValueAllowingZero() throws(RLPError) -> UInt64 {
        guard let value = try uint256ValueAllowingZero().asUInt64 else { throw .tooLarge }
        return value
    }
}

/// Why a raw transaction was rejected.
public enum TransactionError: Error, Sendable, Hashable, CustomStringConvertible {
    case rlp(RLPError)
    case unsupportedType(UInt8)
    case malformed(String)
    case signature(SignatureError)

    public var description: String {
        switch self {
        case let .rlp(error): "transaction: \(error)"
        case let .unsupportedType(type): "unsupported transaction type 0x\(String(type, radix: 16))"
        case let .malformed(reason): "malformed transaction: \(reason)"
        case let .signature(error): "transaction signature: \(error)"
        }
    }
}
