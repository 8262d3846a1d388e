import Foundation
import Testing

@testable import X402

/// The seller's signed offers are reused while half their validity is left: a flood of unpaid
/// requests costs no signatures, and no client gets an offer about to expire.
@Suite("signed offer cache")
struct SignedOfferCacheTests {
    /// A JWS key that counts its signatures (a fixed "signature": the cache is what is tested).
    final class CountingKey: JWSSigningKey, @unchecked Sendable {
        let lock = NSLock()
        var count = 0
        var algorithm: String { "EdDSA" }
        var didKey: DIDKey { try! DIDKey(type: .ed25519, publicKey: [UInt8](repeating: 9, count: 32)) }
        func sign(_ signingInput: [UInt8]) throws -> [UInt8] {
            lock.withLock { count += 1 }
            return [UInt8](repeating: 7, count: 64)
        }
    }

    @Test("one signature per offer per half validity; another resource, price or expiry signs again; the cache stays bounded")
    func reuse() async throws {
        let key = CountingKey()
        let clock = ManualClock()
        let signing = OfferReceipt.Signing(signer: JWSOfferReceiptSigner(key: key), now: clock.function)
        let options = OfferReceipt.RouteOptions(offerValiditySeconds: 120)
        let offers = [ClientFixtures.offer(amount: "10000"), ClientFixtures.offer(amount: "10000", network: .base)]
        let url = "https://api.example/data"

        let first = try #require(await signing.offersExtension(for: offers, resourceURL: url, options: options))
        #expect(key.count == 2)
        for _ in 0..<100 { #expect(await signing.offersExtension(for: offers, resourceURL: url, options: options) == first) }
        #expect(key.count == 2)

        clock.advance(59)
        #expect(await signing.offersExtension(for: offers, resourceURL: url, options: options) == first)
        #expect(key.count == 2)
        // Half the validity gone: fresh offers, valid for the full period again.
        clock.advance(1)
        let second = try #require(await signing.offersExtension(for: offers, resourceURL: url, options: options))
        #expect(second != first)
        #expect(key.count == 4)

        _ = await signing.offersExtension(for: offers, resourceURL: url + "?q=1", options: options)
        #expect(key.count == 6)
        _ = await signing.offersExtension(for: [ClientFixtures.offer(amount: "20000")], resourceURL: url, options: options)
        #expect(key.count == 7)

        for i in 0..<(signing.cache.capacity + 10) {
            _ = await signing.offersExtension(for: [offers[0]], resourceURL: url + "?n=\(i)", options: options)
        }
        #expect(signing.cache.count <= signing.cache.capacity)
    }
}
