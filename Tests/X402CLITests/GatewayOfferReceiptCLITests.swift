import Foundation
import Testing
import X402
import X402EVM
import X402Gateway

@testable import X402CLI

/// `x402 gateway`'s `offerReceipts` member turned into a signer: the key from a file or the
/// environment, and errors that name where the key should be without showing it.
@Suite("x402 gateway: offer and receipt signing from the configuration")
struct GatewayOfferReceiptCLITests {
    @Test func theKeyComesFromTheNamedFile() async throws {
        let key = PrivateKey.random()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("offer-\(UUID().uuidString).key").path
        try key.withUnsafeSecretBytes { Hex.encode($0) }.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let eip712 = try #require(try GatewayCommand.offerReceiptSigning(.init(format: .eip712, keyFile: path)))
        #expect(eip712.signer.signerID == key.address.checksummed)
        let jws = try #require(try GatewayCommand.offerReceiptSigning(.init(format: .jws, keyFile: path)))
        #expect(jws.signer.signerID.hasPrefix("did:key:"))
        #expect(try GatewayCommand.offerReceiptSigning(nil) == nil)
    }

    @Test func aMissingKeyIsNamedAndNeverShown() throws {
        let name = "X402_TEST_OFFER_KEY_\(UUID().uuidString.prefix(8))"
        #expect {
            try GatewayCommand.offerReceiptSigning(.init(format: .eip712, keyEnv: name))
        } throws: { error in
            "\(error)".contains("offerReceipts") && "\(error)".contains(name)
        }
        #expect {
            try GatewayCommand.offerReceiptSigning(.init(format: .eddsa, keyFile: "/nonexistent/offer.json"))
        } throws: { error in
            "\(error)".contains("offerReceipts")
        }
    }
}
