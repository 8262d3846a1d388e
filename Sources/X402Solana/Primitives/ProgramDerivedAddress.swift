import Crypto

/// Program-derived addresses (`create_program_address` / `find_program_address`) and associated
/// token accounts.
public enum ProgramDerivedAddress {
    /// Why an address could not be derived.
    public enum DerivationError: Error, Sendable, Hashable {
        /// More than 16 seeds, or a seed longer than 32 bytes.
        case invalidSeeds
        /// The hash is a curve point (for `createProgramAddress`), or no bump 255…0 gives an
        /// off-curve address (for `findProgramAddress`; practically impossible).
        case onCurve
    }

    static let marker = Array("ProgramDerivedAddress".utf8)

    /// `sha256(seeds ‖ programId ‖ "ProgramDerivedAddress")`, refused when on the curve.
    public static func createProgramAddress(seeds: [[UInt8]], programID: SolanaPublicKey) throws(DerivationError) -> SolanaPublicKey {
        guard seeds.count <= 16, seeds.allSatisfy({ $0.count <= 32 }) else { throw .invalidSeeds }
        var hasher = SHA256()
        for seed in seeds { hasher.update(data: seed) }
        hasher.update(data: programID.bytes)
        hasher.update(data: marker)
        let key = SolanaPublicKey(unchecked: Array(hasher.finalize()))
        guard !key.isOnCurve else { throw .onCurve }
        return key
    }

    /// The first off-curve address for bumps 255 down to 0 (the seeds get one more byte, the bump).
    public static func findProgramAddress(
        seeds: [[UInt8]], programID: SolanaPublicKey
    ) throws(DerivationError) -> (address: SolanaPublicKey, bump: UInt8) {
        guard seeds.count < 16, seeds.allSatisfy({ $0.count <= 32 }) else { throw .invalidSeeds }
        var bump: UInt8 = 255
        while true {
            if let address = try? createProgramAddress(seeds: seeds + [[bump]], programID: programID) {
                return (address, bump)
            }
            if bump == 0 { throw .onCurve }
            bump -= 1
        }
    }

    /// The associated token account of `owner` for `mint` under `tokenProgram` (SPL Token or
    /// Token-2022): seeds `[owner, tokenProgram, mint]` under the ATA program.
    public static func associatedTokenAddress(
        owner: SolanaPublicKey, mint: SolanaPublicKey, tokenProgram: SolanaPublicKey = .tokenProgram
    ) -> (address: SolanaPublicKey, bump: UInt8) {
        guard let found = try? findProgramAddress(seeds: [owner.bytes, tokenProgram.bytes, mint.bytes], programID: .associatedTokenProgram)
        else { preconditionFailure("no associated token address (probability 2^-256)") }
        return found
    }
}
