/// The one piece of curve math this module owns: whether 32 bytes decompress to an Ed25519 point.
///
/// Public data only (addresses), so constant time is not needed. Semantics are those of
/// ed25519-dalek's `CompressedEdwardsY::decompress`, which Solana's `is_on_curve` uses: the top bit
/// is the sign of x and otherwise ignored, y is read modulo p (non-canonical encodings ≥ p are
/// accepted), and x = 0 with the sign bit set is accepted. A point exists exactly when
/// (y² − 1)/(d·y² + 1) is a square in GF(p) (zero included); d·y² + 1 is never zero because −1/d
/// is not a square. That is Euler's criterion on u·v: (u·v)^((p−1)/2) ∈ {0, 1}.
///
/// Field elements are 16 limbs of 16 bits in `Int64` (the TweetNaCl layout): products of reduced
/// limbs stay far below 2⁶³, and all arithmetic uses wrapping operators, so no input can trap.
enum Ed25519Curve {
    typealias FieldElement = [Int64]

    /// d = −121665/121666 mod p.
    static let d: FieldElement = [
        0x78a3, 0x1359, 0x4dca, 0x75eb, 0xd8ab, 0x4141, 0x0a4d, 0x0070,
        0xe898, 0x7779, 0x4079, 0x8cc7, 0xfe73, 0x2b6f, 0x6cee, 0x5203,
    ]
    static let one: FieldElement = [1] + [Int64](repeating: 0, count: 15)

    /// (p − 1)/2 = 2²⁵⁴ − 10, little-endian bytes.
    static let halfPMinusOne: [UInt8] = [0xF6] + [UInt8](repeating: 0xFF, count: 30) + [0x3F]

    /// Whether `bytes` (exactly 32) is the compressed encoding of a curve point.
    static func isOnCurve(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == 32 else { return false }
        let y = unpack(bytes)
        let y2 = mul(y, y)
        let u = sub(y2, one)
        let v = add(mul(d, y2), one)
        let chi = pack(powHalfPMinusOne(mul(u, v)))
        let isZero = chi.allSatisfy { $0 == 0 }
        let isOne = chi[0] == 1 && chi.dropFirst().allSatisfy { $0 == 0 }
        return isZero || isOne
    }

    /// Little-endian bytes to limbs, the top bit (x's sign) dropped; the value may be ≥ p.
    static func unpack(_ b: [UInt8]) -> FieldElement {
        var o = FieldElement(repeating: 0, count: 16)
        for i in 0..<16 { o[i] = Int64(b[2 * i]) | (Int64(b[2 * i + 1]) << 8) }
        o[15] &= 0x7FFF
        return o
    }

    static func carry(_ o: inout FieldElement) {
        for i in 0..<16 {
            o[i] = o[i] &+ (1 << 16)
            let c = o[i] >> 16
            if i < 15 {
                o[i + 1] = o[i + 1] &+ (c &- 1)
            } else {
                o[0] = o[0] &+ 38 &* (c &- 1)
            }
            o[i] = o[i] &- (c << 16)
        }
    }

    /// The canonical little-endian encoding (fully reduced mod p).
    static func pack(_ n: FieldElement) -> [UInt8] {
        var t = n
        carry(&t)
        carry(&t)
        carry(&t)
        for _ in 0..<2 {
            var m = FieldElement(repeating: 0, count: 16)
            m[0] = t[0] &- 0xFFED
            for i in 1..<15 {
                m[i] = t[i] &- 0xFFFF &- ((m[i - 1] >> 16) & 1)
                m[i - 1] &= 0xFFFF
            }
            m[15] = t[15] &- 0x7FFF &- ((m[14] >> 16) & 1)
            let borrow = (m[15] >> 16) & 1
            m[14] &= 0xFFFF
            if borrow == 0 { t = m }  // t ≥ p: keep t − p
        }
        var out = [UInt8](repeating: 0, count: 32)
        for i in 0..<16 {
            out[2 * i] = UInt8(truncatingIfNeeded: t[i])
            out[2 * i + 1] = UInt8(truncatingIfNeeded: t[i] >> 8)
        }
        return out
    }

    static func add(_ a: FieldElement, _ b: FieldElement) -> FieldElement {
        var o = FieldElement(repeating: 0, count: 16)
        for i in 0..<16 { o[i] = a[i] &+ b[i] }
        return o
    }

    static func sub(_ a: FieldElement, _ b: FieldElement) -> FieldElement {
        var o = FieldElement(repeating: 0, count: 16)
        for i in 0..<16 { o[i] = a[i] &- b[i] }
        return o
    }

    static func mul(_ a: FieldElement, _ b: FieldElement) -> FieldElement {
        var t = [Int64](repeating: 0, count: 31)
        for i in 0..<16 {
            for j in 0..<16 { t[i + j] = t[i + j] &+ a[i] &* b[j] }
        }
        for i in 0..<15 { t[i] = t[i] &+ 38 &* t[i + 16] }
        var o = Array(t[0..<16])
        carry(&o)
        carry(&o)
        return o
    }

    /// `a` squared `n` times.
    static func square(_ a: FieldElement, times n: Int) -> FieldElement {
        var r = a
        for _ in 0..<n { r = mul(r, r) }
        return r
    }

    /// `z^((p − 1)/2)` = `z^(2²⁵⁴ − 10)` through the ref10 addition chain for `z^(2²⁵⁰ − 1)`
    /// (254 squarings and 13 multiplications instead of about 500 multiplications by square and
    /// multiply); the tests check it against ``pow(_:_:)``.
    static func powHalfPMinusOne(_ z: FieldElement) -> FieldElement {
        let z2 = mul(z, z)
        let z9 = mul(square(z2, times: 2), z)
        let z11 = mul(z9, z2)
        let z2To5 = mul(mul(z11, z11), z9)  // z^(2⁵ − 1)
        let z2To10 = mul(square(z2To5, times: 5), z2To5)
        let z2To20 = mul(square(z2To10, times: 10), z2To10)
        let z2To40 = mul(square(z2To20, times: 20), z2To20)
        let z2To50 = mul(square(z2To40, times: 10), z2To10)
        let z2To100 = mul(square(z2To50, times: 50), z2To50)
        let z2To200 = mul(square(z2To100, times: 100), z2To100)
        let z2To250 = mul(square(z2To200, times: 50), z2To50)  // z^(2²⁵⁰ − 1)
        let z6 = mul(mul(z2, z2), z2)
        return mul(square(z2To250, times: 4), z6)  // (2²⁵⁰ − 1)·2⁴ + 6 = 2²⁵⁴ − 10
    }

    /// `base^exponent` with `exponent` as little-endian bytes.
    static func pow(_ base: FieldElement, _ exponent: [UInt8]) -> FieldElement {
        var result = one
        for byte in exponent.reversed() {
            for bit in (0..<8).reversed() {
                result = mul(result, result)
                if (byte >> bit) & 1 == 1 { result = mul(result, base) }
            }
        }
        return result
    }
}
