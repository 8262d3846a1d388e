import CSecp256k1
import X402

/// The process-wide libsecp256k1 context (created once, blinded with random data, then shared).
///
/// libsecp256k1 contexts are safe to use concurrently for signing, verification and recovery
/// once created and randomized, and this one is never mutated afterwards.
enum Secp256k1 {
    nonisolated(unsafe) static let context: OpaquePointer = {
        guard let context = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE)) else {
            fatalError("secp256k1_context_create failed")
        }
        var seed = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in seed.indices { seed[index] = generator.next() }
        guard secp256k1_context_randomize(context, seed) == 1 else {
            fatalError("secp256k1_context_randomize failed")
        }
        return context
    }()

    /// The curve order n.
    static let order = UInt256(words: (0xBFD2_5E8C_D036_4141, 0xBAAE_DCE6_AF48_A03B, 0xFFFF_FFFF_FFFF_FFFE, 0xFFFF_FFFF_FFFF_FFFF))
    /// ⌊n / 2⌋: the largest `s` accepted as "low s" (EIP-2).
    static let halfOrder = UInt256(words: (0xDFE9_2F46_681B_20A0, 0x5D57_6E73_57A4_501D, 0xFFFF_FFFF_FFFF_FFFF, 0x7FFF_FFFF_FFFF_FFFF))
}
