import ArgumentParser
import Foundation
import X402
import X402EVM
import X402SQLite
import X402Solana

/// `x402 receipt`: the seller-signed receipts (`offer-receipt`) the buyer received.
struct ReceiptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipt",
        abstract: "Check seller-signed receipts (offer-receipt) offline.",
        subcommands: [Verify.self])

    /// `x402 receipt verify FILE`: checks a stored or exported receipt without the network.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Verify a signed receipt file offline against the seller's key or address.",
            discussion: """
                FILE holds a signed receipt ({"format", "payload"?, "signature"}), an offer-receipt extension value, \
                a settlement response carrying one, or one entry of `x402 history --receipts --json`. The signature is \
                checked offline (EIP-712, JWS ES256K or EdDSA); a JWS whose kid is a did:key is checked with that key, \
                other kids (did:web) need --key. The receipt passes only when its signer is one of the --key/--address \
                given. Exit codes: 0 verified; 10 the signature is valid but no signer was pinned to compare with; \
                11 invalid, tampered, from another signer, or mismatching --payer/--resource/--network; 1 unreadable file.
                """)

        @Argument(help: "The receipt file.")
        var file: String

        @Option(name: .long, help: ArgumentHelp("The seller's JWS key as a did:key (repeatable).", valueName: "did:key"))
        var key: [String] = []

        @Option(name: .long, help: ArgumentHelp("The seller's EIP-712 signing address (repeatable).", valueName: "0x…"))
        var address: [String] = []

        @Option(name: .long, help: ArgumentHelp("Also require this payer (case-insensitive).", valueName: "address"))
        var payer: String?

        @Option(name: .long, help: ArgumentHelp("Also require this resource URL.", valueName: "url"))
        var resource: String?

        @Option(name: .long, help: ArgumentHelp("Also require this CAIP-2 network.", valueName: "caip2"))
        var network: String?

        @Flag(name: .long, help: "Print one JSON object on stdout.")
        var json = false

        func validate() throws {
            _ = try ReceiptTrustOptions.trust(keys: key, addresses: address)
        }

        func run() async throws {
            let bytes: [UInt8]
            do {
                let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
                defer { try? handle.close() }
                bytes = Array(try handle.read(upToCount: 64 * 1024 + 1) ?? Data())
            } catch {
                throw BuyerError("cannot read \(file): \(error.localizedDescription)")
            }
            let receipt: SignedReceipt
            do { receipt = try OfferReceipt.receipt(fromFile: bytes) } catch {
                switch error {
                case .invalidMessage(let e): throw BuyerError("\(file): not a signed receipt: \(e)")
                case .invalidJSON(let e): throw BuyerError("\(file): not JSON: \(e)")
                default: throw BuyerError("\(file): \(error)")
                }
            }
            let verifier = ReceiptTrustOptions.verifier(trust: try ReceiptTrustOptions.trust(keys: key, addresses: address))
            let verdict = verifier.verify(receipt)
            let p = receipt.payload
            let problems = OfferReceipt.problems(
                of: p, resourceURL: resource ?? p.resourceUrl, network: network ?? p.network, payers: [payer ?? p.payer], transaction: nil,
                now: Date(), maximumAge: nil
            ).filter {
                // Offline: the age is not judged, only a receipt dated in the future.
                if case .issuedInFuture = $0 { return true }
                return payer != nil || resource != nil || network != nil
            }
            let status: OfferReceiptStatus = problems.isEmpty ? verdict.status : .invalid
            let exit: Int32 = status == .verified ? 0 : status == .unpinned ? 10 : 11
            if json {
                BuyerOutput.printJSON([
                    "status": .string(status.rawValue), "signer": verdict.signer.map { .string($0.description) } ?? .null,
                    "detail": .string(verdict.detail), "problems": .array(problems.map { .string($0.description) }),
                    "receipt": receipt.json,
                ])
            } else {
                print("\(status.rawValue): \(peer(verdict.detail))")
                if let signer = verdict.signer { print("  signer       \(peer(signer.description))") }
                print("  format       \(receipt.format.rawValue)")
                print("  resource     \(peer(p.resourceUrl))")
                print("  payer        \(peer(p.payer))")
                print("  network      \(peer(p.network))")
                print("  issued       \(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(p.issuedAt))))")
                if let tx = p.transaction { print("  transaction  \(peer(tx))") }
                for problem in problems { print("  mismatch     \(peer(problem.description))") }
                if status == .unpinned { print("  pass --key or --address to check who signed it") }
            }
            if exit != 0 { throw ExitCode(exit) }
        }
    }
}

/// The receipt verifier of the CLI (EIP-712, ES256K, EdDSA) and its pinned signers.
enum ReceiptTrustOptions {
    static func trust(keys: [String], addresses: [String]) throws -> OfferReceiptTrust {
        var signers: Set<OfferReceiptSignerID> = []
        for key in keys {
            guard key.hasPrefix("did:key:"), let id = OfferReceiptSignerID(key) else { throw ValidationError("--key \(key) is not a did:key") }
            signers.insert(id)
        }
        for address in addresses {
            guard !address.hasPrefix("did:"), let id = OfferReceiptSignerID(address) else {
                throw ValidationError("--address \(address) is not a 0x address")
            }
            signers.insert(id)
        }
        return OfferReceiptTrust(signers: signers)
    }

    /// `--seller-key` values: each a did:key or a 0x address.
    static func trust(sellerKeys: [String]) throws -> OfferReceiptTrust {
        try trust(keys: sellerKeys.filter { $0.hasPrefix("did:") }, addresses: sellerKeys.filter { !$0.hasPrefix("did:") })
    }

    static func verifier(trust: OfferReceiptTrust) -> OfferReceiptVerifier {
        OfferReceiptVerifier.evm(trust: trust, additionalJWS: [EdDSAVerifier()])
    }
}

/// `x402 history --receipts`: the stored receipts, newest first, with the verdict reached when
/// each arrived and a fresh offline check of its signature.
enum ReceiptHistory {
    static func show(ledgerPath: String, payer: String?, limit: Int, json: Bool) async throws {
        var stored: [StoredReceipt] = []
        if FileManager.default.fileExists(atPath: ledgerPath) {
            stored = try await SQLiteSpendLedger(path: ledgerPath).receipts(payer: payer, limit: limit)
        }
        let verifier = ReceiptTrustOptions.verifier(trust: .none)
        let iso = ISO8601DateFormatter()
        if json {
            BuyerOutput.printJSON([
                "ledger": .string(ledgerPath), "wallet": payer.map(JSONValue.string) ?? .null,
                "receipts": .array(
                    stored.map { r in
                        let now = verifier.verify(r.receipt)
                        return .object([
                            "id": .string(r.id.uuidString), "paymentId": r.recordID.map { .string($0.uuidString) } ?? .null,
                            "receivedAt": .string(iso.string(from: r.receivedAt)), "status": .string(r.status.rawValue),
                            "signer": r.signer.map(JSONValue.string) ?? .null, "detail": .string(r.detail),
                            "signatureNow": .string(now.status.rawValue), "receipt": r.receipt.json,
                        ])
                    }),
            ])
            return
        }
        if stored.isEmpty {
            print("no receipts recorded in \(ledgerPath)\(payer.map { " for \($0)" } ?? "")")
            return
        }
        for r in stored {
            let p = r.receipt.payload
            print("\(iso.string(from: r.receivedAt))  \(r.status.rawValue)  \(r.receipt.format.rawValue)")
            print("  resource     \(peer(p.resourceUrl))")
            print("  network      \(peer(KnownNetwork.describe(p.network)))")
            print("  payer        \(peer(p.payer))")
            print("  issued       \(iso.string(from: Date(timeIntervalSince1970: Double(p.issuedAt))))")
            if let tx = p.transaction { print("  transaction  \(peer(tx))") }
            if let signer = r.signer { print("  signer       \(peer(signer))") }
            print("  check        \(peer(r.detail))")
            if let id = r.recordID { print("  payment      \(id.uuidString)") }
        }
    }
}
