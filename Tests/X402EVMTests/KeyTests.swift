import Foundation
import Testing
import X402

@testable import X402EVM

@Suite("Keys, signatures and addresses")
struct KeyTests {
    @Test("private key → public key → address matches eth-keys")
    func keyFixtures() throws {
        let cases = try Fixture.objects("keys.json")
        #expect(!cases.isEmpty)
        for entry in cases {
            let key = try PrivateKey(hex: entry.string("privateKey"))
            #expect(Hex.encode(key.publicKey.uncompressedBytes) == (try entry.string("publicKey")))
            #expect(key.address.checksummed == (try entry.string("address")))
            let reparsed = try PublicKey(bytes: Hex.decode(entry.string("publicKey")))
            #expect(reparsed == key.publicKey)
            #expect(try PublicKey(bytes: key.publicKey.compressedBytes) == key.publicKey)
        }
    }

    @Test("spec key §5: accepted with or without 0x")
    func specKey() throws {
        let bare = try PrivateKey(hex: "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
        let prefixed = try PrivateKey(hex: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n")
        #expect(bare.address.checksummed == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
        #expect(prefixed.address == bare.address)
    }

    @Test("rejects zero, out-of-range, wrong-length and non-hex keys")
    func keyRejections() {
        #expect(throws: KeyError.outOfRange) { try PrivateKey(bytes: [UInt8](repeating: 0, count: 32)) }
        // n itself and n + 1, and 2^256 − 1
        #expect(throws: KeyError.outOfRange) {
            try PrivateKey(hex: "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
        }
        #expect(throws: KeyError.outOfRange) {
            try PrivateKey(hex: "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364142")
        }
        #expect(throws: KeyError.outOfRange) { try PrivateKey(bytes: [UInt8](repeating: 0xFF, count: 32)) }
        #expect(throws: KeyError.invalidLength(31)) { try PrivateKey(bytes: [UInt8](repeating: 1, count: 31)) }
        #expect(throws: KeyError.invalidHex) { try PrivateKey(hex: "0xzz") }
        // n − 1 is the largest valid key.
        #expect(throws: Never.self) {
            try PrivateKey(hex: "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140")
        }
    }

    @Test("keys load from an environment variable and a file; missing sources give typed errors")
    func keySources() throws {
        let hex = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
        setenv("X402_EVM_TEST_KEY", hex, 1)
        defer { unsetenv("X402_EVM_TEST_KEY") }
        #expect(
            try PrivateKey(environmentVariable: "X402_EVM_TEST_KEY").address.checksummed
                == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
        #expect(throws: KeyError.missingEnvironmentVariable("X402_EVM_TEST_KEY_UNSET")) {
            try PrivateKey(environmentVariable: "X402_EVM_TEST_KEY_UNSET")
        }
        let path = NSTemporaryDirectory() + "x402-evm-key-\(UUID().uuidString)"
        try (hex + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try PrivateKey(contentsOfFile: path).address.checksummed == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
        #expect(throws: KeyError.unreadableFile("/nonexistent/x402-key")) { try PrivateKey(contentsOfFile: "/nonexistent/x402-key") }
    }

    @Test("the secret never appears in description, debugDescription, dump or errors")
    func noSecretLeak() throws {
        let secret = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
        let key = try PrivateKey(hex: secret)
        var dumped = ""
        dump(key, to: &dumped)
        for text in [key.description, key.debugDescription, "\(key)", String(reflecting: key), dumped] {
            #expect(!text.lowercased().contains(secret))
            #expect(!text.lowercased().contains(secret.prefix(16)))
        }
        do {
            _ = try PrivateKey(hex: secret + "00")
            Issue.record("expected a length error")
        } catch {
            #expect(!"\(error)".contains(secret))
        }
    }

    @Test("sign → recover round trip, low s, v 27/28, deterministic")
    func signRecover() throws {
        let key = try PrivateKey(hex: "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
        for index in 0..<64 {
            let digest = Keccak256.hash(Array("message \(index)".utf8))
            let signature = key.sign(digest: digest)
            #expect(signature.v == 27 || signature.v == 28)
            #expect(signature.s.uint256 <= Secp256k1.halfOrder)
            #expect(try signature.recoverSigner(digest: digest) == key.address)
            #expect(key.sign(digest: digest) == signature)
            #expect(try Signature(bytes: signature.bytes) == signature)
            #expect(try Signature(hex: signature.hexString) == signature)
        }
    }

    @Test("accepts v = 0/1 on input; rejects other v, high s, zero/overflowing r,s and bad lengths")
    func signatureValidation() throws {
        let key = try PrivateKey(hex: "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
        let digest = Keccak256.hash(utf8: "x402")
        let signature = key.sign(digest: digest)
        var raw = signature.bytes
        raw[64] -= 27
        let zeroOne = try Signature(bytes: raw)
        #expect(zeroOne == signature)
        #expect(zeroOne.bytes[64] == signature.v)
        #expect(try zeroOne.recoverSigner(digest: digest) == key.address)

        for badV: UInt8 in [2, 26, 29, 35, 255] {
            raw[64] = badV
            #expect(throws: SignatureError.invalidV(badV)) { try Signature(bytes: raw) }
        }
        // High s: s' = n − s (the malleable twin) must be rejected.
        let highS = Secp256k1.order - signature.s.uint256
        #expect(throws: SignatureError.highS) { try Signature(r: signature.r, s: Bytes32(highS), v: 27 + (signature.recoveryID ^ 1)) }
        #expect(throws: SignatureError.sOutOfRange) { try Signature(r: signature.r, s: .zero, v: 27) }
        #expect(throws: SignatureError.rOutOfRange) { try Signature(r: .zero, s: signature.s, v: 27) }
        #expect(throws: SignatureError.rOutOfRange) { try Signature(r: Bytes32(Secp256k1.order), s: signature.s, v: 27) }
        #expect(throws: SignatureError.invalidLength(64)) { try Signature(bytes: Array(signature.bytes.prefix(64))) }
        #expect(throws: SignatureError.invalidLength(66)) { try Signature(bytes: signature.bytes + [0]) }
        #expect(throws: SignatureError.invalidHex) { try Signature(hex: "0xnothex") }
    }

    @Test("a signature over another digest recovers someone else")
    func wrongDigest() throws {
        let key = try PrivateKey(hex: "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
        let signature = key.sign(digest: Keccak256.hash(utf8: "a"))
        let other = try? signature.recoverSigner(digest: Keccak256.hash(utf8: "b"))
        #expect(other != key.address)
    }

    @Test("EIP-55 checksums match eth-utils; any case parses; bad mixed-case checksums are rejected")
    func eip55() throws {
        let cases = try Fixture.objects("eip55.json")
        #expect(!cases.isEmpty)
        for entry in cases {
            let lower = try entry.string("lower")
            let checksummed = try entry.string("checksummed")
            let fromLower = try EthereumAddress(lower)
            #expect(fromLower.checksummed == checksummed)
            #expect(fromLower.lowercased == lower)
            #expect(try EthereumAddress(checksummed) == fromLower)
            let upper = "0x" + lower.dropFirst(2).uppercased()
            #expect(try EthereumAddress(upper) == fromLower)
            // Flip the case of one letter: a mixed-case string with a wrong checksum.
            let characters = Array(checksummed)
            if let index = characters.indices.dropFirst(2).first(where: { characters[$0].isLetter }) {
                var tampered = characters
                tampered[index] = Character(characters[index].isUppercase ? characters[index].lowercased() : characters[index].uppercased())
                let text = String(tampered)
                if text.dropFirst(2).contains(where: \.isUppercase), text.dropFirst(2).contains(where: \.isLowercase) {
                    #expect(throws: AddressError.invalidChecksum) { try EthereumAddress(text) }
                    #expect(try EthereumAddress(text, validatingChecksum: false) == fromLower)
                }
            }
        }
    }

    @Test("malformed addresses are rejected")
    func badAddresses() {
        for text in [
            "", "0x", "857b06519E91e3A54538791bDbb0E22373e36b66", "0x857b06519E91e3A54538791bDbb0E22373e36b6",
            "0x857b06519E91e3A54538791bDbb0E22373e36b666", "0xg57b06519e91e3a54538791bdbb0e22373e36b66",
        ] {
            #expect(throws: AddressError.invalidFormat) { try EthereumAddress(text) }
        }
    }

    @Test("address JSON round trip uses the checksummed form")
    func addressCodable() throws {
        let address = try EthereumAddress("0x857b06519e91e3a54538791bdbb0e22373e36b66")
        let data = try JSONEncoder().encode([address])
        #expect(String(decoding: data, as: UTF8.self) == "[\"0x857b06519E91e3A54538791bDbb0E22373e36b66\"]")
        #expect(try JSONDecoder().decode([EthereumAddress].self, from: data) == [address])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([EthereumAddress].self, from: Data("[\"0x857B06519E91e3A54538791bDbb0E22373e36b66\"]".utf8))
        }
    }

    @Test("spec EIP-3009 signature (test-vectors.md §4) recovers to its from")
    func specSignature() throws {
        let signature = try Signature(
            hex:
                "0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c"
        )
        let digest = try Bytes32(hex: "0xf256992871671abcb27ff92885a7afa46218724e5fc0bac35d050115aa1d22e6")
        #expect(signature.v == 28)
        #expect(try signature.recoverSigner(digest: digest).checksummed == "0x857b06519E91e3A54538791bDbb0E22373e36b66")
    }
}
