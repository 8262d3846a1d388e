import Foundation
import Testing
import X402
import X402Solana

@Suite struct PrimitivesTests {
    @Test func base58Vectors() throws {
        let cases = SVMVectors.section("base58")
        #expect(cases.count == 7)
        for c in cases {
            let bytes = Hex.decode(c["hex"]!.string)
            #expect(Base58.encode(bytes) == c["base58"]!.string)
            #expect(try Base58.decode(c["base58"]!.string) == bytes)
        }
    }

    @Test func base58RejectsHostileText() throws {
        #expect(throws: Base58.DecodingError.invalidCharacter(offset: 3)) { try Base58.decode("abc0") }
        #expect(throws: Base58.DecodingError.invalidCharacter(offset: 0)) { try Base58.decode("l") }
        #expect(throws: Base58.DecodingError.invalidCharacter(offset: 1)) { try Base58.decode("1é") }
        #expect(throws: Base58.DecodingError.tooLong(100_000)) { try Base58.decode(String(repeating: "z", count: 100_000)) }
        #expect(throws: Base58.DecodingError.wrongLength(expected: 32, actual: 31)) {
            try SolanaPublicKey(base58: "1111111111111111111111111111111")
        }
        #expect(throws: Base58.DecodingError.empty) { try SolanaPublicKey(base58: "") }
        #expect(try Base58.decode("") == [])
        // Every length up to the bound round-trips, leading zeros included.
        for n in 0...Base58.maximumDecodedLength {
            let bytes = [0, 0] + (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let text = Base58.encode(bytes)
            if text.utf8.count <= Base58.maximumEncodedLength { #expect(try Base58.decode(text) == bytes) }
        }
    }

    @Test func publicKeyAndSignatureRoundTrip() throws {
        let key = try SolanaPublicKey(base58: "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
        #expect(key == .tokenProgram)
        #expect(key.base58 == "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
        #expect(SolanaPublicKey(bytes: [UInt8](repeating: 1, count: 31)) == nil)
        #expect(SolanaSignature(bytes: [UInt8](repeating: 1, count: 63)) == nil)
        let sig = try SolanaSignature(base58: SVMVectors.section("base58")[6]["base58"]!.string)
        #expect(sig.bytes == (0..<64).map { UInt8($0) })
        #expect(throws: Base58.DecodingError.wrongLength(expected: 64, actual: 32)) {
            try SolanaSignature(base58: "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
        }
    }

    @Test func ed25519Vectors() throws {
        let cases = SVMVectors.section("ed25519")
        #expect(cases.count == 3)
        for c in cases {
            let keypair = try SolanaKeypair(seed: Hex.decode(c["seedHex"]!.string))
            #expect(Hex.encode(keypair.publicKey.bytes) == c["publicKeyHex"]!.string)
            #expect(keypair.publicKey.base58 == c["publicKeyBase58"]!.string)
            let message = Hex.decode(c["messageHex"]!.string)
            let expected = SolanaSignature(bytes: Hex.decode(c["signatureHex"]!.string))!
            #if os(Linux)
            // BoringSSL signs deterministically (RFC 8032); CryptoKit on Apple platforms randomizes.
            #expect(keypair.sign(message) == expected)
            #endif
            #expect(keypair.publicKey.verify(expected, for: message))
            #expect(keypair.publicKey.verify(keypair.sign(message), for: message))
            var tampered = expected.bytes
            tampered[0] ^= 1
            #expect(!keypair.publicKey.verify(SolanaSignature(bytes: tampered)!, for: message))
            #expect(!keypair.publicKey.verify(expected, for: message + [0]))
        }
    }

    @Test func keypairFormats() throws {
        let f = SVMVectors.json["facilitator"]!
        let fromSeed = try SolanaKeypair(seed: Hex.decode(f["seedHex"]!.string))
        #expect(fromSeed.publicKey.base58 == f["address"]!.string)
        let fromBase58 = try SolanaKeypair(text: f["keypairBase58"]!.string)
        #expect(fromBase58.publicKey == fromSeed.publicKey)
        let bytes = try Base58.decode(f["keypairBase58"]!.string)
        let json = "[" + bytes.map { String($0) }.joined(separator: ", ") + "]\n"
        #expect(try SolanaKeypair(text: json).publicKey == fromSeed.publicKey)
        var wrong = bytes
        wrong[40] ^= 1
        #expect(throws: SolanaKeypair.KeyError.publicKeyMismatch) { try SolanaKeypair(keypairBytes: wrong) }
        #expect(throws: SolanaKeypair.KeyError.invalidKeypairLength(32)) { try SolanaKeypair(keypairBytes: bytes.prefix(32)) }
        #expect(throws: SolanaKeypair.KeyError.invalidSeedLength(31)) { try SolanaKeypair(seed: bytes.prefix(31)) }
        #expect(throws: SolanaKeypair.KeyError.unreadable) { try SolanaKeypair(text: "[1,2,300]") }
        #expect(throws: SolanaKeypair.KeyError.unreadable) { try SolanaKeypair(text: "not base58 0OIl") }
        #expect(!String(describing: fromSeed).contains(f["keypairBase58"]!.string))
    }

    @Test func compactU16Vectors() throws {
        let cases = SVMVectors.section("compactU16")
        #expect(cases.count == 8)
        for c in cases {
            let value = c["value"]!.int
            let bytes = Hex.decode(c["hex"]!.string)
            #expect(CompactU16.encode(UInt16(value)) == bytes)
            var offset = 0
            #expect(try CompactU16.decode(bytes, at: &offset) == value)
            #expect(offset == bytes.count)
        }
        // Every value round-trips.
        for value in 0...Int(UInt16.max) {
            let bytes = CompactU16.encode(UInt16(value))
            var offset = 0
            let decoded = try CompactU16.decode(bytes, at: &offset)
            if decoded != value || offset != bytes.count { Issue.record("compact-u16 \(value) does not round-trip") }
        }
    }

    @Test func compactU16RejectsNonCanonicalAndOverflow() {
        func decode(_ bytes: [UInt8]) throws(CompactU16.DecodingError) -> Int {
            var offset = 0
            return try CompactU16.decode(bytes, at: &offset)
        }
        #expect(throws: CompactU16.DecodingError.nonCanonical) { try decode([0x80, 0x00]) }
        #expect(throws: CompactU16.DecodingError.nonCanonical) { try decode([0xFF, 0x80, 0x00]) }
        #expect(throws: CompactU16.DecodingError.overflow) { try decode([0xFF, 0xFF, 0x04]) }
        #expect(throws: CompactU16.DecodingError.overflow) { try decode([0x80, 0x80, 0x81]) }
        #expect(throws: CompactU16.DecodingError.truncated) { try decode([0x80]) }
        #expect(throws: CompactU16.DecodingError.truncated) { try decode([]) }
    }

    @Test func isOnCurveVectors() throws {
        let cases = SVMVectors.section("isOnCurve")
        #expect(cases.count == 25)
        for c in cases {
            let key = SolanaPublicKey(bytes: Hex.decode(c["bytesHex"]!.string))!
            #expect(key.isOnCurve == c["isOnCurve"]!.bool, "\(c["label"]!.string)")
        }
    }

    @Test func associatedTokenAccountVectors() throws {
        let cases = SVMVectors.section("associatedTokenAccounts")
        #expect(cases.count == 3)
        for c in cases {
            let (address, bump) = ProgramDerivedAddress.associatedTokenAddress(
                owner: try SolanaPublicKey(base58: c["owner"]!.string), mint: try SolanaPublicKey(base58: c["mint"]!.string),
                tokenProgram: try SolanaPublicKey(base58: c["tokenProgram"]!.string))
            #expect(address.base58 == c["ata"]!.string)
            #expect(Int(bump) == c["bump"]!.int)
            #expect(!address.isOnCurve)
        }
    }

    @Test func programDerivedAddressesSkipOnCurveBumps() throws {
        let cases = SVMVectors.section("programDerivedAddressesWithSkippedBumps")
        #expect(cases.count == 3)
        for c in cases {
            let seeds = c["seedsHex"]!.arrayValue!.map { Hex.decode($0.string) }
            let program = try SolanaPublicKey(base58: c["programId"]!.string)
            let (address, bump) = try ProgramDerivedAddress.findProgramAddress(seeds: seeds, programID: program)
            #expect(address.base58 == c["address"]!.string)
            #expect(Int(bump) == c["bump"]!.int)
            let skipped = c["onCurveCandidatesSkipped"]!.arrayValue!
            #expect(!skipped.isEmpty)
            for s in skipped {
                let b = UInt8(s["bump"]!.int)
                #expect(throws: ProgramDerivedAddress.DerivationError.onCurve) {
                    try ProgramDerivedAddress.createProgramAddress(seeds: seeds + [[b]], programID: program)
                }
                #expect(SolanaPublicKey(bytes: Hex.decode(s["candidateHex"]!.string))!.isOnCurve)
            }
            #expect(try ProgramDerivedAddress.createProgramAddress(seeds: seeds + [[bump]], programID: program) == address)
        }
        #expect(throws: ProgramDerivedAddress.DerivationError.invalidSeeds) {
            try ProgramDerivedAddress.createProgramAddress(seeds: [[UInt8](repeating: 0, count: 33)], programID: .systemProgram)
        }
    }
}
