public import X402

/// A 32-byte hash (a recent blockhash), shown in base58.
public struct SolanaHash: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// The hash from exactly 32 bytes; `nil` for any other length.
    public init?(bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        guard array.count == 32 else { return nil }
        self.bytes = array
    }

    /// The hash from base58 text.
    public init(base58 text: String) throws(Base58.DecodingError) {
        bytes = try Base58.decode(text, length: 32)
    }

    public var base58: String { Base58.encode(bytes) }
    public var description: String { base58 }
}

/// Why transaction or message bytes could not be read. Every length is checked against the
/// bytes left before anything is allocated, so hostile input costs linear time.
public enum SolanaDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The input ended early.
    case truncated
    /// Bytes left over after the transaction.
    case trailingBytes(Int)
    /// Larger than ``SolanaTransaction/maximumSize`` (1232 bytes).
    case tooLarge(Int)
    /// A malformed compact-u16 length.
    case invalidLength(CompactU16.DecodingError)
    /// A versioned message of a version other than 0 (e.g. the v1 format of SIMD-0385).
    case unsupportedVersion(UInt8)
    /// The header contradicts the account list (signers, read-only counts).
    case invalidHeader
    /// An instruction names a program or account index beyond the account list, or invokes the
    /// fee payer (index 0) as a program.
    case invalidIndex
    /// An account key appears twice.
    case duplicateAccountKey
    /// The number of signatures differs from the header's `numRequiredSignatures`.
    case signatureCountMismatch(signatures: Int, required: Int)
    /// v0 address-table lookups: the accounts they load cannot be known without the chain.
    case addressTableLookupsUnsupported

    public var description: String {
        switch self {
        case .truncated: "transaction bytes end early"
        case .trailingBytes(let n): "\(n) bytes after the transaction"
        case .tooLarge(let n): "transaction of \(n) bytes exceeds \(SolanaTransaction.maximumSize)"
        case .invalidLength(let e): "malformed compact-u16 length (\(e))"
        case .unsupportedVersion(let v): "transaction message version \(v) is not supported"
        case .invalidHeader: "message header contradicts the account keys"
        case .invalidIndex: "instruction index out of bounds or fee payer invoked as a program"
        case .duplicateAccountKey: "an account key appears twice"
        case .signatureCountMismatch(let s, let r): "\(s) signatures for \(r) required signers"
        case .addressTableLookupsUnsupported: "address lookup tables cannot be resolved"
        }
    }
}

/// The three counts at the start of a message.
public struct SolanaMessageHeader: Sendable, Hashable {
    /// Signers, the first keys (fee payer first).
    public var numRequiredSignatures: UInt8
    /// Of those, the last ones are read-only.
    public var numReadonlySignedAccounts: UInt8
    /// The last unsigned keys are read-only.
    public var numReadonlyUnsignedAccounts: UInt8

    public init(numRequiredSignatures: UInt8, numReadonlySignedAccounts: UInt8, numReadonlyUnsignedAccounts: UInt8) {
        self.numRequiredSignatures = numRequiredSignatures
        self.numReadonlySignedAccounts = numReadonlySignedAccounts
        self.numReadonlyUnsignedAccounts = numReadonlyUnsignedAccounts
    }
}

/// An instruction inside a message: indices into the account keys.
public struct SolanaCompiledInstruction: Sendable, Hashable {
    public var programIDIndex: UInt8
    public var accountIndices: [UInt8]
    public var data: [UInt8]

    public init(programIDIndex: UInt8, accountIndices: [UInt8], data: [UInt8]) {
        self.programIDIndex = programIDIndex
        self.accountIndices = accountIndices
        self.data = data
    }
}

/// A v0 address-table lookup (carried through decoding; not resolved here).
public struct SolanaAddressTableLookup: Sendable, Hashable {
    public var accountKey: SolanaPublicKey
    public var writableIndexes: [UInt8]
    public var readonlyIndexes: [UInt8]

    public init(accountKey: SolanaPublicKey, writableIndexes: [UInt8], readonlyIndexes: [UInt8]) {
        self.accountKey = accountKey
        self.writableIndexes = writableIndexes
        self.readonlyIndexes = readonlyIndexes
    }
}

/// A legacy or v0 transaction message: what every signer signs.
public struct SolanaMessage: Sendable, Hashable {
    /// The message format.
    public enum Version: Sendable, Hashable {
        /// Unversioned (no prefix byte).
        case legacy
        /// Version 0 (prefix `0x80`), with address-table lookups.
        case v0
    }

    public var version: Version
    public var header: SolanaMessageHeader
    /// The static account keys: writable signers (fee payer first), read-only signers, writable
    /// non-signers, read-only non-signers.
    public var accountKeys: [SolanaPublicKey]
    public var recentBlockhash: SolanaHash
    public var instructions: [SolanaCompiledInstruction]
    /// Always empty for legacy messages.
    public var addressTableLookups: [SolanaAddressTableLookup]

    public init(
        version: Version, header: SolanaMessageHeader, accountKeys: [SolanaPublicKey], recentBlockhash: SolanaHash,
        instructions: [SolanaCompiledInstruction], addressTableLookups: [SolanaAddressTableLookup] = []
    ) {
        self.version = version
        self.header = header
        self.accountKeys = accountKeys
        self.recentBlockhash = recentBlockhash
        self.instructions = instructions
        self.addressTableLookups = addressTableLookups
    }

    /// The fee payer (account 0), if there is one.
    public var feePayer: SolanaPublicKey? { accountKeys.first }

    /// The signers' keys, in signature order.
    public var signerKeys: ArraySlice<SolanaPublicKey> { accountKeys.prefix(Int(header.numRequiredSignatures)) }

    /// Whether static account `index` is a signer.
    public func isSigner(_ index: Int) -> Bool { index < Int(header.numRequiredSignatures) }

    /// Whether static account `index` is writable (per the header).
    public func isWritable(_ index: Int) -> Bool {
        let signers = Int(header.numRequiredSignatures)
        if index < signers { return index < signers - Int(header.numReadonlySignedAccounts) }
        return index < accountKeys.count - Int(header.numReadonlyUnsignedAccounts)
    }

    // MARK: Compile

    /// Compiles `instructions` as solana-sdk does (`CompiledKeys::compile`): the fee payer first,
    /// then writable signers, read-only signers, writable non-signers and read-only non-signers,
    /// each group in raw key order; flags of a key used several times are merged.
    public static func compile(
        payer: SolanaPublicKey, instructions: [SolanaInstruction], recentBlockhash: SolanaHash, version: Version = .v0
    ) -> SolanaMessage {
        var flags: [SolanaPublicKey: (signer: Bool, writable: Bool)] = [:]
        for instruction in instructions {
            if flags[instruction.programID] == nil { flags[instruction.programID] = (false, false) }
            for meta in instruction.accounts {
                let old = flags[meta.publicKey] ?? (false, false)
                flags[meta.publicKey] = (old.signer || meta.isSigner, old.writable || meta.isWritable)
            }
        }
        flags[payer] = nil
        let sorted = flags.sorted { $0.key < $1.key }
        let writableSigners = sorted.filter { $0.value.signer && $0.value.writable }.map(\.key)
        let readonlySigners = sorted.filter { $0.value.signer && !$0.value.writable }.map(\.key)
        let writableOthers = sorted.filter { !$0.value.signer && $0.value.writable }.map(\.key)
        let readonlyOthers = sorted.filter { !$0.value.signer && !$0.value.writable }.map(\.key)
        let keys = [payer] + writableSigners + readonlySigners + writableOthers + readonlyOthers
        var index: [SolanaPublicKey: UInt8] = [:]
        for (i, key) in keys.enumerated() { index[key] = UInt8(truncatingIfNeeded: i) }
        let compiled = instructions.map { instruction in
            SolanaCompiledInstruction(
                programIDIndex: index[instruction.programID] ?? 0,
                accountIndices: instruction.accounts.map { index[$0.publicKey] ?? 0 }, data: instruction.data)
        }
        let header = SolanaMessageHeader(
            numRequiredSignatures: UInt8(truncatingIfNeeded: 1 + writableSigners.count + readonlySigners.count),
            numReadonlySignedAccounts: UInt8(truncatingIfNeeded: readonlySigners.count),
            numReadonlyUnsignedAccounts: UInt8(truncatingIfNeeded: readonlyOthers.count))
        return SolanaMessage(version: version, header: header, accountKeys: keys, recentBlockhash: recentBlockhash, instructions: compiled)
    }

    // MARK: Serialize

    /// The wire bytes (what signers sign): `0x80` for v0, header, keys, blockhash, instructions
    /// and (v0) lookups.
    public func serialize() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + 32 * accountKeys.count + instructions.reduce(0) { $0 + 4 + $1.accountIndices.count + $1.data.count })
        if version == .v0 { out.append(0x80) }
        out += [header.numRequiredSignatures, header.numReadonlySignedAccounts, header.numReadonlyUnsignedAccounts]
        CompactU16.append(accountKeys.count, to: &out)
        for key in accountKeys { out += key.bytes }
        out += recentBlockhash.bytes
        CompactU16.append(instructions.count, to: &out)
        for instruction in instructions {
            out.append(instruction.programIDIndex)
            CompactU16.append(instruction.accountIndices.count, to: &out)
            out += instruction.accountIndices
            CompactU16.append(instruction.data.count, to: &out)
            out += instruction.data
        }
        if version == .v0 {
            CompactU16.append(addressTableLookups.count, to: &out)
            for lookup in addressTableLookups {
                out += lookup.accountKey.bytes
                CompactU16.append(lookup.writableIndexes.count, to: &out)
                out += lookup.writableIndexes
                CompactU16.append(lookup.readonlyIndexes.count, to: &out)
                out += lookup.readonlyIndexes
            }
        }
        return out
    }

    // MARK: Deserialize

    /// Reads a whole message from `bytes` (no trailing bytes allowed).
    public init(bytes: [UInt8]) throws(SolanaDecodingError) {
        guard bytes.count <= SolanaTransaction.maximumSize else { throw .tooLarge(bytes.count) }
        var reader = ByteReader(bytes)
        try self.init(reader: &reader)
        guard reader.remaining == 0 else { throw .trailingBytes(reader.remaining) }
    }

    init(reader: inout ByteReader) throws(SolanaDecodingError) {
        let first = try reader.byte()
        let version: Version
        let numRequired: UInt8
        if first & 0x80 != 0 {
            guard first & 0x7F == 0 else { throw .unsupportedVersion(first & 0x7F) }
            version = .v0
            numRequired = try reader.byte()
        } else {
            version = .legacy
            numRequired = first
        }
        let header = SolanaMessageHeader(
            numRequiredSignatures: numRequired, numReadonlySignedAccounts: try reader.byte(), numReadonlyUnsignedAccounts: try reader.byte())
        let keyCount = try reader.length(elementSize: 32)
        var keys: [SolanaPublicKey] = []
        keys.reserveCapacity(keyCount)
        for _ in 0..<keyCount { keys.append(SolanaPublicKey(unchecked: try reader.bytes(32))) }
        guard let blockhash = SolanaHash(bytes: try reader.bytes(32)) else { throw .truncated }
        let instructionCount = try reader.length(elementSize: 3)
        var instructions: [SolanaCompiledInstruction] = []
        instructions.reserveCapacity(instructionCount)
        for _ in 0..<instructionCount {
            let program = try reader.byte()
            let accounts = try reader.bytes(try reader.length(elementSize: 1))
            let data = try reader.bytes(try reader.length(elementSize: 1))
            instructions.append(SolanaCompiledInstruction(programIDIndex: program, accountIndices: accounts, data: data))
        }
        var lookups: [SolanaAddressTableLookup] = []
        if version == .v0 {
            let lookupCount = try reader.length(elementSize: 34)
            for _ in 0..<lookupCount {
                let key = SolanaPublicKey(unchecked: try reader.bytes(32))
                let writable = try reader.bytes(try reader.length(elementSize: 1))
                let readonly = try reader.bytes(try reader.length(elementSize: 1))
                lookups.append(SolanaAddressTableLookup(accountKey: key, writableIndexes: writable, readonlyIndexes: readonly))
            }
        }
        self.init(
            version: version, header: header, accountKeys: keys, recentBlockhash: blockhash, instructions: instructions,
            addressTableLookups: lookups)
        try sanitize()
    }

    /// The structural rules the runtime applies (`Message::sanitize`): at least one signer, the
    /// read-only signers fewer than the signers, the counts within the keys, every index within
    /// the accounts (static plus looked-up), no program at index 0, no key twice.
    public func sanitize() throws(SolanaDecodingError) {
        let signers = Int(header.numRequiredSignatures)
        guard signers >= 1, Int(header.numReadonlySignedAccounts) < signers,
            signers + Int(header.numReadonlyUnsignedAccounts) <= accountKeys.count
        else { throw .invalidHeader }
        let looked = addressTableLookups.reduce(0) { $0 + $1.writableIndexes.count + $1.readonlyIndexes.count }
        let total = accountKeys.count + looked
        guard total <= 256 else { throw .invalidIndex }
        for instruction in instructions {
            let program = Int(instruction.programIDIndex)
            // Programs come from the static keys only, never the fee payer.
            guard program > 0, program < accountKeys.count else { throw .invalidIndex }
            for index in instruction.accountIndices where Int(index) >= total { throw .invalidIndex }
        }
        guard Set(accountKeys).count == accountKeys.count else { throw .duplicateAccountKey }
    }

    // MARK: Decompile

    /// The instructions with their accounts resolved from the static keys and the header flags.
    ///
    /// - Throws: ``SolanaDecodingError/addressTableLookupsUnsupported`` when the message loads
    ///   accounts from lookup tables (they cannot be known without the chain).
    public func decompile() throws(SolanaDecodingError) -> [SolanaInstruction] {
        guard addressTableLookups.isEmpty else { throw .addressTableLookupsUnsupported }
        var out: [SolanaInstruction] = []
        out.reserveCapacity(instructions.count)
        for instruction in instructions {
            guard Int(instruction.programIDIndex) < accountKeys.count else { throw .invalidIndex }
            var metas: [SolanaAccountMeta] = []
            metas.reserveCapacity(instruction.accountIndices.count)
            for index in instruction.accountIndices {
                let i = Int(index)
                guard i < accountKeys.count else { throw .invalidIndex }
                metas.append(SolanaAccountMeta(accountKeys[i], isSigner: isSigner(i), isWritable: isWritable(i)))
            }
            out.append(SolanaInstruction(programID: accountKeys[Int(instruction.programIDIndex)], accounts: metas, data: instruction.data))
        }
        return out
    }
}

/// A cursor over bytes whose every read is bounds-checked.
struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func byte() throws(SolanaDecodingError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func bytes(_ count: Int) throws(SolanaDecodingError) -> [UInt8] {
        guard count >= 0, count <= remaining else { throw .truncated }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    /// A compact-u16 count of elements of at least `elementSize` bytes each, refused when the
    /// bytes left cannot hold that many.
    mutating func length(elementSize: Int) throws(SolanaDecodingError) -> Int {
        let value: Int
        do { value = try CompactU16.decode(bytes, at: &offset) } catch { throw .invalidLength(error) }
        guard value * elementSize <= remaining else { throw .truncated }
        return value
    }
}
