// Keccak-f[1600] permutation, fully unrolled over the 5×5 lanes (generated; do not edit by hand).

@inline(__always)
private func rotl(_ x: UInt64, _ n: UInt64) -> UInt64 { (x << n) | (x >> (64 &- n)) }

/// Applies the 24-round Keccak-f[1600] permutation to 25 little-endian lanes in place.
@usableFromInline
internal func keccakF1600(_ s: UnsafeMutablePointer<UInt64>) {
    var a0 = s[0]
    var a1 = s[1]
    var a2 = s[2]
    var a3 = s[3]
    var a4 = s[4]
    var a5 = s[5]
    var a6 = s[6]
    var a7 = s[7]
    var a8 = s[8]
    var a9 = s[9]
    var a10 = s[10]
    var a11 = s[11]
    var a12 = s[12]
    var a13 = s[13]
    var a14 = s[14]
    var a15 = s[15]
    var a16 = s[16]
    var a17 = s[17]
    var a18 = s[18]
    var a19 = s[19]
    var a20 = s[20]
    var a21 = s[21]
    var a22 = s[22]
    var a23 = s[23]
    var a24 = s[24]
    var round = 0
    while round < 24 {
        let c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20
        let c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21
        let c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22
        let c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23
        let c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24
        let d0 = c4 ^ rotl(c1, 1)
        let d1 = c0 ^ rotl(c2, 1)
        let d2 = c1 ^ rotl(c3, 1)
        let d3 = c2 ^ rotl(c4, 1)
        let d4 = c3 ^ rotl(c0, 1)
        a0 ^= d0
        a5 ^= d0
        a10 ^= d0
        a15 ^= d0
        a20 ^= d0
        a1 ^= d1
        a6 ^= d1
        a11 ^= d1
        a16 ^= d1
        a21 ^= d1
        a2 ^= d2
        a7 ^= d2
        a12 ^= d2
        a17 ^= d2
        a22 ^= d2
        a3 ^= d3
        a8 ^= d3
        a13 ^= d3
        a18 ^= d3
        a23 ^= d3
        a4 ^= d4
        a9 ^= d4
        a14 ^= d4
        a19 ^= d4
        a24 ^= d4
        let b0 = a0
        let b16 = rotl(a5, 36)
        let b7 = rotl(a10, 3)
        let b23 = rotl(a15, 41)
        let b14 = rotl(a20, 18)
        let b10 = rotl(a1, 1)
        let b1 = rotl(a6, 44)
        let b17 = rotl(a11, 10)
        let b8 = rotl(a16, 45)
        let b24 = rotl(a21, 2)
        let b20 = rotl(a2, 62)
        let b11 = rotl(a7, 6)
        let b2 = rotl(a12, 43)
        let b18 = rotl(a17, 15)
        let b9 = rotl(a22, 61)
        let b5 = rotl(a3, 28)
        let b21 = rotl(a8, 55)
        let b12 = rotl(a13, 25)
        let b3 = rotl(a18, 21)
        let b19 = rotl(a23, 56)
        let b15 = rotl(a4, 27)
        let b6 = rotl(a9, 20)
        let b22 = rotl(a14, 39)
        let b13 = rotl(a19, 8)
        let b4 = rotl(a24, 14)
        a0 = b0 ^ (~b1 & b2)
        a5 = b5 ^ (~b6 & b7)
        a10 = b10 ^ (~b11 & b12)
        a15 = b15 ^ (~b16 & b17)
        a20 = b20 ^ (~b21 & b22)
        a1 = b1 ^ (~b2 & b3)
        a6 = b6 ^ (~b7 & b8)
        a11 = b11 ^ (~b12 & b13)
        a16 = b16 ^ (~b17 & b18)
        a21 = b21 ^ (~b22 & b23)
        a2 = b2 ^ (~b3 & b4)
        a7 = b7 ^ (~b8 & b9)
        a12 = b12 ^ (~b13 & b14)
        a17 = b17 ^ (~b18 & b19)
        a22 = b22 ^ (~b23 & b24)
        a3 = b3 ^ (~b4 & b0)
        a8 = b8 ^ (~b9 & b5)
        a13 = b13 ^ (~b14 & b10)
        a18 = b18 ^ (~b19 & b15)
        a23 = b23 ^ (~b24 & b20)
        a4 = b4 ^ (~b0 & b1)
        a9 = b9 ^ (~b5 & b6)
        a14 = b14 ^ (~b10 & b11)
        a19 = b19 ^ (~b15 & b16)
        a24 = b24 ^ (~b20 & b21)
        a0 ^= keccakRoundConstant(round)
        round += 1
    }
    s[0] = a0
    s[1] = a1
    s[2] = a2
    s[3] = a3
    s[4] = a4
    s[5] = a5
    s[6] = a6
    s[7] = a7
    s[8] = a8
    s[9] = a9
    s[10] = a10
    s[11] = a11
    s[12] = a12
    s[13] = a13
    s[14] = a14
    s[15] = a15
    s[16] = a16
    s[17] = a17
    s[18] = a18
    s[19] = a19
    s[20] = a20
    s[21] = a21
    s[22] = a22
    s[23] = a23
    s[24] = a24
}

@inline(__always)
private func keccakRoundConstant(_ round: Int) -> UInt64 {
    switch round {
    case 0: return 0x0000_0000_0000_0001
    case 1: return 0x0000_0000_0000_8082
    case 2: return 0x8000_0000_0000_808A
    case 3: return 0x8000_0000_8000_8000
    case 4: return 0x0000_0000_0000_808B
    case 5: return 0x0000_0000_8000_0001
    case 6: return 0x8000_0000_8000_8081
    case 7: return 0x8000_0000_0000_8009
    case 8: return 0x0000_0000_0000_008A
    case 9: return 0x0000_0000_0000_0088
    case 10: return 0x0000_0000_8000_8009
    case 11: return 0x0000_0000_8000_000A
    case 12: return 0x0000_0000_8000_808B
    case 13: return 0x8000_0000_0000_008B
    case 14: return 0x8000_0000_0000_8089
    case 15: return 0x8000_0000_0000_8003
    case 16: return 0x8000_0000_0000_8002
    case 17: return 0x8000_0000_0000_0080
    case 18: return 0x0000_0000_0000_800A
    case 19: return 0x8000_0000_8000_000A
    case 20: return 0x8000_0000_8000_8081
    case 21: return 0x8000_0000_0000_8080
    case 22: return 0x0000_0000_8000_0001
    case 23: return 0x8000_0000_8000_8008
    default: return 0
    }
}
