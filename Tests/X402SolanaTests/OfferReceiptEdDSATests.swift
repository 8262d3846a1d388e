import Foundation
import Testing
import X402
import X402Solana

/// `offer-receipt` JWS `EdDSA` against vectors signed by pycryptodome's Ed25519
/// (Tests/X402EVMTests/Fixtures/offer_receipt.py).
@Suite("offer-receipt: JWS EdDSA")
struct OfferReceiptEdDSATests {
    static func vectors() throws -> JSONValue {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/offer-receipt-eddsa", withExtension: "json"))
        return try JSONValue(parsing: Array(Data(contentsOf: url)))
    }

    static func seed(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var text = Substring(hex)
        while text.count >= 2 {
            bytes.append(UInt8(text.prefix(2), radix: 16) ?? 0)
            text = text.dropFirst(2)
        }
        return bytes
    }

    @Test("vectors verify; Swift signs the same JWS; pinning, wrong key and tampering")
    func vectorsVerify() async throws {
        let json = try Self.vectors()
        let did = try DIDKey(try #require(json["didKey"]?.stringValue))
        let key = try EdDSASigningKey(keypair: try SolanaKeypair(seed: Self.seed(try #require(json["seed"]?.stringValue))))
        #expect(key.didKey == did)
        let signer = JWSOfferReceiptSigner(key: key)
        let unpinned = OfferReceiptVerifier(eip712: nil, jws: [EdDSAVerifier()])
        let pinned = OfferReceiptVerifier(eip712: nil, jws: [EdDSAVerifier()], trust: OfferReceiptTrust(signers: [.key(did)]))
        let other = OfferReceiptVerifier(
            eip712: nil, jws: [EdDSAVerifier()],
            trust: OfferReceiptTrust(signers: [.key(try DIDKey(try #require(json["otherDidKey"]?.stringValue)))]))
        let vectors = try #require(json["vectors"]?.arrayValue)
        #expect(vectors.count == 2)
        for vector in vectors {
            let compact = try #require(vector["jws"]?.stringValue)
            if vector["kind"]?.stringValue == "offer" {
                let offer = try SignedOffer(json: ["format": "jws", "signature": .string(compact)])
                #expect(try await signer.signature(for: offer.payload) == compact)
                #expect(unpinned.verify(offer: offer).status == .unpinned)
                #expect(pinned.verify(offer: offer).status == .verified)
                #expect(other.verify(offer: offer).status == .unexpectedSigner)
            } else {
                let receipt = try SignedReceipt(json: ["format": "jws", "signature": .string(compact)])
                #expect(try await signer.signature(for: receipt.payload) == compact)
                #expect(pinned.verify(receipt).status == .verified)
                #expect(receipt.payload.transaction == nil)
                // One changed signature byte.
                var parts = compact.split(separator: ".").map(String.init)
                var sig = try #require(Base64URL.decode(parts[2]))
                sig[0] ^= 0x80
                parts[2] = Base64URL.encode(sig)
                let flipped = try SignedReceipt(json: ["format": "jws", "signature": .string(parts.joined(separator: "."))])
                #expect(pinned.verify(flipped).status == .invalid)
                #expect(unpinned.verify(flipped).status == .invalid)
            }
        }
        let wrong = try SignedReceipt(json: ["format": "jws", "signature": try #require(json["wrongKey"]?["jws"])])
        #expect(unpinned.verify(wrong).status == .invalid)
        #expect(pinned.verify(wrong).status == .invalid)
        // EdDSA signatures of another length are refused without a trap.
        #expect(!EdDSAVerifier().isValid(signature: [1, 2, 3], signingInput: [], publicKey: did))
    }
}
