import NIOConcurrencyHelpers
public import X402

/// An EIP-712 domain with its separator computed once (and cached process-wide).
///
/// Any subset of the five standard fields may be present; the domain type lists the present ones in
/// canonical order (`name`, `version`, `chainId`, `verifyingContract`, `salt`), as eth-account and
/// wallets do.
public struct EIP712Domain: Sendable, Hashable {
    public let name: String?
    public let version: String?
    public let chainId: UInt256?
    public let verifyingContract: EthereumAddress?
    public let salt: Bytes32?
    /// `hashStruct(EIP712Domain, domain)`.
    public let separator: Bytes32

    /// The five standard fields in canonical order.
    static let canonicalFields: [TypedData.Field] = [
        .init(name: "name", type: "string"), .init(name: "version", type: "string"),
        .init(name: "chainId", type: "uint256"), .init(name: "verifyingContract", type: "address"),
        .init(name: "salt", type: "bytes32"),
    ]

    /// Creates a domain; the separator comes from a process-wide cache when this domain was seen before.
    public init(
        name: String? = nil, version: String? = nil, chainId: UInt256? = nil,
        verifyingContract: EthereumAddress? = nil, salt: Bytes32? = nil
    ) {
        self.name = name
        self.version = version
        self.chainId = chainId
        self.verifyingContract = verifyingContract
        self.salt = salt
        let key = CacheKey(name: name, version: version, chainId: chainId, verifyingContract: verifyingContract, salt: salt)
        if let cached = Self.cache.withLockedValue({ $0[key] }) {
            separator = cached
            return
        }
        let computed = Self.computeSeparator(key)
        Self.cache.withLockedValue { storage in
            if storage.count >= 1024 { storage.removeAll(keepingCapacity: true) }
            storage[key] = computed
        }
        separator = computed
    }

    /// Reads a domain from a typed-data `domain` object.
    ///
    /// - Parameter value: A JSON object with any subset of `name`, `version`, `chainId`,
    ///   `verifyingContract` and `salt`; `chainId` may be a JSON number or a decimal or `0x` hex string.
    /// - Throws: ``TypedDataError/invalidStructure(_:)`` for a non-object or an unknown member,
    ///   ``TypedDataError/invalidValue(path:type:reason:)`` for a member of the wrong type.
    public init(_ value: JSONValue) throws(TypedDataError) {
        guard case let .object(members) = value else { throw .invalidStructure("domain must be an object") }
        for key in members.keys where !Self.canonicalFields.contains(where: { $0.name == key }) {
            throw .invalidStructure("unsupported domain field \"\(key)\"")
        }
        func string(_ key: String) throws(TypedDataError) -> String? {
            guard let member = members[key] else { return nil }
            guard case let .string(text) = member else { throw .invalidValue(path: "domain.\(key)", type: "string", reason: "expected a string") }
            return text
        }
        var chainId: UInt256?
        if let member = members["chainId"] {
            chainId = try TypedDataEncoder.unsignedInteger(member) { .invalidValue(path: "domain.chainId", type: "uint256", reason: $0) }
        }
        var contract: EthereumAddress?
        if let member = members["verifyingContract"] {
            guard case let .string(text) = member, let address = try? EthereumAddress(text) else {
                throw .invalidValue(path: "domain.verifyingContract", type: "address", reason: "expected an address")
            }
            contract = address
        }
        var salt: Bytes32?
        if let member = members["salt"] {
            guard case let .string(text) = member, let value = try? Bytes32(hex: text) else {
                throw .invalidValue(path: "domain.salt", type: "bytes32", reason: "expected 32 bytes of hex")
            }
            salt = value
        }
        self.init(name: try string("name"), version: try string("version"), chainId: chainId, verifyingContract: contract, salt: salt)
    }

    /// The domain's `EIP712Domain` type fields (present fields, canonical order).
    public var fields: [TypedData.Field] {
        var result: [TypedData.Field] = []
        if name != nil { result.append(Self.canonicalFields[0]) }
        if version != nil { result.append(Self.canonicalFields[1]) }
        if chainId != nil { result.append(Self.canonicalFields[2]) }
        if verifyingContract != nil { result.append(Self.canonicalFields[3]) }
        if salt != nil { result.append(Self.canonicalFields[4]) }
        return result
    }

    /// The domain as a typed-data JSON object: the present fields in canonical order, `chainId` as
    /// a JSON number.
    public var jsonValue: JSONValue {
        var members = JSONObject()
        if let name { members["name"] = .string(name) }
        if let version { members["version"] = .string(version) }
        if let chainId {
            // Decimal digits always match the number grammar; the string form would hash the same anyway.
            let digits = chainId.decimalString
            members["chainId"] = JSONNumber(literal: digits).map(JSONValue.number) ?? .string(digits)
        }
        if let verifyingContract { members["verifyingContract"] = .string(verifyingContract.checksummed) }
        if let salt { members["salt"] = .string(salt.hexString) }
        return .object(members)
    }

    /// `keccak256(0x19 ‖ 0x01 ‖ separator ‖ structHash)`.
    @inlinable
    public func digest(structHash: Bytes32) -> Bytes32 {
        EIP712.digest(domainSeparator: separator, structHash: structHash)
    }

    // MARK: Separator computation and cache

    /// The cache key. `name` and `version` are kept as their UTF-8 bytes: Swift `String`
    /// equality is canonical equivalence ("é" == "e\u{301}"), but the separator hashes the bytes,
    /// so two spellings must never share an entry.
    struct CacheKey: Hashable {
        let nameBytes: [UInt8]?
        let versionBytes: [UInt8]?
        let chainId: UInt256?
        let verifyingContract: EthereumAddress?
        let salt: Bytes32?

        init(name: String?, version: String?, chainId: UInt256?, verifyingContract: EthereumAddress?, salt: Bytes32?) {
            nameBytes = name.map { Array($0.utf8) }
            versionBytes = version.map { Array($0.utf8) }
            self.chainId = chainId
            self.verifyingContract = verifyingContract
            self.salt = salt
        }
    }

    /// Separators by domain; emptied when it reaches 1,024 entries, so peers cannot grow it without bound.
    private static let cache = NIOLockedValueBox<[CacheKey: Bytes32]>([:])

    /// `EIP712Domain` type hashes by the bit mask of present fields (at most 32 entries).
    private static let typeHashes = NIOLockedValueBox<[Int: Bytes32]>([:])

    private static func typeHash(mask: Int) -> Bytes32 {
        if let cached = typeHashes.withLockedValue({ $0[mask] }) { return cached }
        var text = "EIP712Domain("
        var first = true
        for (bit, field) in canonicalFields.enumerated() where mask & (1 << bit) != 0 {
            if !first { text += "," }
            text += "\(field.type) \(field.name)"
            first = false
        }
        text += ")"
        let hash = Keccak256.hash(utf8: text)
        typeHashes.withLockedValue { $0[mask] = hash }
        return hash
    }

    private static func computeSeparator(_ key: CacheKey) -> Bytes32 {
        var mask = 0
        if key.nameBytes != nil { mask |= 1 }
        if key.versionBytes != nil { mask |= 2 }
        if key.chainId != nil { mask |= 4 }
        if key.verifyingContract != nil { mask |= 8 }
        if key.salt != nil { mask |= 16 }
        let typeHash = typeHash(mask: mask)
        return EIP712.hashWords(1 + mask.nonzeroBitCount) { writer in
            writer.append(typeHash)
            if let name = key.nameBytes { writer.append(Keccak256.hash(name)) }
            if let version = key.versionBytes { writer.append(Keccak256.hash(version)) }
            if let chainId = key.chainId { writer.append(chainId) }
            if let contract = key.verifyingContract { writer.append(contract) }
            if let salt = key.salt { writer.append(salt) }
        }
    }
}
