import Foundation
import Testing
import X402
import X402EVM

/// `x402 fetch` with `offer-receipt`: forged offers are refused before signing (exit 3); a good
/// receipt is stored, listed by `history --receipts` and checked by `receipt verify`.
@Suite("x402 buyer CLI: signed offers and receipts")
struct ReceiptCLITests {
    /// A 402 whose one offer is signed by `offerKey` (EIP-712), paid to `payTo`.
    static func paymentRequired(url: String, payTo: String, offerKey: PrivateKey) async throws -> CLIScriptedServer.Answer {
        let requirement = PaymentRequirements(
            scheme: "exact", network: .baseSepolia, amount: "10000", asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", payTo: payTo,
            maxTimeoutSeconds: 60, extra: ["name": "USDC", "version": "2"])
        let offer = try await EIP712OfferReceiptSigner(key: offerKey).sign(
            offer: OfferPayload(requirements: requirement, resourceUrl: url, validUntil: UInt64(Date().timeIntervalSince1970) + 60),
            acceptIndex: 0)
        let required = PaymentRequired(
            error: "Payment required", resource: ResourceInfo(url: url), accepts: [requirement],
            extensions: [OfferReceipt.extensionKey: OfferReceipt.offersExtension([offer])])
        return (402, [("PAYMENT-REQUIRED", required.headerValue)], "{}")
    }

    @Test("an offer signed by someone other than payTo (or the pinned signer) is refused: exit 3, nothing signed")
    func forgedOfferRefused() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let keyFile = try cli.writeKey(.random())
        let seller = PrivateKey.random()
        let forger = PrivateKey.random()
        try await CLIScriptedServer.run({ path, _ in
            (try? await Self.paymentRequired(url: "http://seller\(path)", payTo: seller.address.checksummed, offerKey: forger))
                ?? (500, [], "")
        }) { base, log in
            let result = try await cli.run(["fetch", base + "/item", "--key-file", keyFile, "--json"])
            #expect(result.status == 3, "\(result)")
            #expect(try result.json()["refusal"]?["rule"] == "offerReceipt")
            #expect(await log.paymentHeaders.isEmpty)
        }
        // Signed by payTo but not by the pinned signer.
        try await CLIScriptedServer.run({ path, _ in
            (try? await Self.paymentRequired(url: "http://seller\(path)", payTo: seller.address.checksummed, offerKey: seller))
                ?? (500, [], "")
        }) { base, log in
            let result = try await cli.run(["fetch", base + "/item", "--key-file", keyFile, "--seller-key", forger.address.checksummed])
            #expect(result.status == 3, "\(result)")
            #expect(await log.paymentHeaders.isEmpty)
        }
    }

    @Test("a good receipt is stored verified; history --receipts lists it; receipt verify checks it; a forged receipt is stored invalid")
    func receiptStoredAndVerified() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let buyer = PrivateKey.random()
        let keyFile = try cli.writeKey(buyer)
        let seller = PrivateKey.random()
        let forger = PrivateKey.random()
        for (path, receiptKey) in [("/good", seller), ("/forged", forger)] {
            try await CLIScriptedServer.run({ path, headers in
                guard headers["payment-signature"] != nil else {
                    return (try? await Self.paymentRequired(url: "http://seller\(path)", payTo: seller.address.checksummed, offerKey: seller))
                        ?? (500, [], "")
                }
                let receipt = try? await EIP712OfferReceiptSigner(key: receiptKey).sign(
                    receipt: ReceiptPayload(
                        network: "eip155:84532", resourceUrl: "http://seller\(path)", payer: buyer.address.checksummed,
                        issuedAt: UInt64(Date().timeIntervalSince1970)))
                var settlement = SettleResponse(success: true, transaction: "0xfeed", network: "eip155:84532", payer: buyer.address.checksummed)
                if let receipt { settlement.extensions = [OfferReceipt.extensionKey: OfferReceipt.receiptExtension(receipt)] }
                return (200, [("PAYMENT-RESPONSE", settlement.headerValue)], "data")
            }) { base, _ in
                let result = try await cli.run(["fetch", base + path, "--key-file", keyFile])
                #expect(result.status == 0, "\(result)")
                #expect(result.stderr.contains("did not check out") == (path == "/forged"), "\(result)")
            }
        }
        let history = try await cli.run(["history", "--receipts", "--key-file", keyFile, "--json"])
        let receipts = try #require(try history.json()["receipts"]?.arrayValue)
        #expect(receipts.map { $0["status"] } == ["unexpected-signer", "verified"])
        let text = try await cli.run(["history", "--receipts", "--key-file", keyFile])
        #expect(text.stdout.contains("verified  eip712"), "\(text)")

        let good = cli.home.appendingPathComponent("good.json").path
        _ = FileManager.default.createFile(atPath: good, contents: Data(receipts[1].serialized()))
        let verified = try await cli.run(["receipt", "verify", good, "--address", seller.address.checksummed])
        #expect(verified.status == 0, "\(verified)")
        let unpinned = try await cli.run(["receipt", "verify", good, "--json"])
        #expect(unpinned.status == 10, "\(unpinned)")
        let forged = cli.home.appendingPathComponent("forged.json").path
        _ = FileManager.default.createFile(atPath: forged, contents: Data(receipts[0].serialized()))
        let refused = try await cli.run(["receipt", "verify", forged, "--address", seller.address.checksummed])
        #expect(refused.status == 11, "\(refused)")
        let wrongPayer = try await cli.run([
            "receipt", "verify", good, "--address", seller.address.checksummed, "--payer", forger.address.checksummed,
        ])
        #expect(wrongPayer.status == 11, "\(wrongPayer)")
        let garbage = cli.home.appendingPathComponent("garbage.json").path
        _ = FileManager.default.createFile(atPath: garbage, contents: Data(#"{"format":"jws","signature":"a.b"}"#.utf8))
        #expect(try await cli.run(["receipt", "verify", garbage]).status == 1)
    }
}
