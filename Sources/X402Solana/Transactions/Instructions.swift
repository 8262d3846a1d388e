/// One account an instruction reads or writes, with its signer and writable flags.
public struct SolanaAccountMeta: Sendable, Hashable {
    public var publicKey: SolanaPublicKey
    public var isSigner: Bool
    public var isWritable: Bool

    public init(_ publicKey: SolanaPublicKey, isSigner: Bool, isWritable: Bool) {
        self.publicKey = publicKey
        self.isSigner = isSigner
        self.isWritable = isWritable
    }
}

/// An instruction before compilation into a message: program, accounts, data.
public struct SolanaInstruction: Sendable, Hashable {
    public var programID: SolanaPublicKey
    public var accounts: [SolanaAccountMeta]
    public var data: [UInt8]

    public init(programID: SolanaPublicKey, accounts: [SolanaAccountMeta], data: [UInt8]) {
        self.programID = programID
        self.accounts = accounts
        self.data = data
    }
}

/// Compute Budget program instructions.
public enum ComputeBudgetInstruction {
    /// `SetComputeUnitLimit` (discriminator 2, u32 LE units).
    public static func setComputeUnitLimit(_ units: UInt32) -> SolanaInstruction {
        SolanaInstruction(programID: .computeBudgetProgram, accounts: [], data: [2] + LittleEndian.bytes(units))
    }

    /// `SetComputeUnitPrice` (discriminator 3, u64 LE micro-lamports per compute unit).
    public static func setComputeUnitPrice(_ microLamports: UInt64) -> SolanaInstruction {
        SolanaInstruction(programID: .computeBudgetProgram, accounts: [], data: [3] + LittleEndian.bytes(microLamports))
    }

    /// The units of `SetComputeUnitLimit` data (exactly 5 bytes), else `nil`.
    public static func parseComputeUnitLimit(_ data: [UInt8]) -> UInt32? {
        guard data.count == 5, data[0] == 2 else { return nil }
        return LittleEndian.uint32(data, at: 1)
    }

    /// The price of `SetComputeUnitPrice` data (exactly 9 bytes), else `nil`.
    public static func parseComputeUnitPrice(_ data: [UInt8]) -> UInt64? {
        guard data.count == 9, data[0] == 3 else { return nil }
        return LittleEndian.uint64(data, at: 1)
    }
}

/// SPL Token / Token-2022 instructions.
public enum TokenInstruction {
    /// The `TransferChecked` discriminator.
    public static let transferCheckedTag: UInt8 = 12

    /// `TransferChecked { amount, decimals }` with accounts source (writable), mint, destination
    /// (writable), authority (signer).
    public static func transferChecked(
        source: SolanaPublicKey, mint: SolanaPublicKey, destination: SolanaPublicKey, authority: SolanaPublicKey,
        amount: UInt64, decimals: UInt8, tokenProgram: SolanaPublicKey = .tokenProgram
    ) -> SolanaInstruction {
        SolanaInstruction(
            programID: tokenProgram,
            accounts: [
                SolanaAccountMeta(source, isSigner: false, isWritable: true),
                SolanaAccountMeta(mint, isSigner: false, isWritable: false),
                SolanaAccountMeta(destination, isSigner: false, isWritable: true),
                SolanaAccountMeta(authority, isSigner: true, isWritable: false),
            ],
            data: [transferCheckedTag] + LittleEndian.bytes(amount) + [decimals])
    }

    /// `(amount, decimals)` of `TransferChecked` data (exactly 10 bytes), else `nil`.
    public static func parseTransferChecked(_ data: [UInt8]) -> (amount: UInt64, decimals: UInt8)? {
        guard data.count == 10, data[0] == transferCheckedTag else { return nil }
        return (LittleEndian.uint64(data, at: 1), data[9])
    }
}

/// Memo program instructions.
public enum MemoInstruction {
    /// A memo carrying `data` (UTF-8 text), no accounts.
    public static func memo(_ data: [UInt8]) -> SolanaInstruction {
        SolanaInstruction(programID: .memoProgram, accounts: [], data: data)
    }
}

enum LittleEndian {
    static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    /// Reads 4 bytes at `offset`; the caller checked the bounds.
    static func uint32(_ b: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[offset + $1]) << (8 * UInt32($1)) }
    }

    /// Reads 8 bytes at `offset`; the caller checked the bounds.
    static func uint64(_ b: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[offset + $1]) << (8 * UInt64($1)) }
    }
}
