import ArgumentParser
import Foundation
import X402
import X402EVM
import X402SQLite

/// `x402 history`: the payment attempts recorded in the spend ledger, newest first.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List recorded payments (newest first) from the spend ledger.",
        discussion: """
            Shows the wallet's payments when a key is available, else every wallet's. Statuses: settled; pending (sent, \
            outcome unknown); unconfirmed (the server did not deliver, but it holds a signature that could still be \
            settled); failed (nothing paid). Pending and unconfirmed payments count against the budget until their \
            authorization has expired and is read unused on chain (checked on each fetch, limits and history).
            """)

    @OptionGroup var keys: KeyOptions
    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "At most this many records (default 20).")
    var limit = 20

    @Flag(name: .long, help: "Every wallet in the ledger, not only the key's.")
    var allWallets = false

    @Flag(name: .long, help: "Print one JSON object on stdout.")
    var json = false

    @Flag(name: .long, help: "List the seller-signed receipts (offer-receipt) received, with their verification status.")
    var receipts = false

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() async throws {
        let wallet: String?
        if allWallets {
            wallet = nil
        } else if keys.isExplicit {
            wallet = try keys.load().address.checksummed
        } else {
            wallet = (try? keys.load())?.address.checksummed
        }
        var records: [SpendRecord] = []
        var events: [PurchaseEvent] = []
        if receipts {
            try await ReceiptHistory.show(ledgerPath: store.ledgerPath, payer: wallet, limit: limit, json: json)
            return
        }
        if FileManager.default.fileExists(atPath: store.ledgerPath) {
            let ledger = try SQLiteSpendLedger(path: store.ledgerPath)
            await LedgerReconciliation.run(ledger: ledger, quiet: json)
            records = try await ledger.history(wallet: wallet, limit: limit)
            let approvals = try OwnerQueue.ownerSide(store: store)
            _ = try await approvals.expire(now: Date())
            events = try await approvals.store.events(fetchID: nil, limit: limit)
        }
        if json {
            let iso = ISO8601DateFormatter()
            BuyerOutput.printJSON([
                "ledger": .string(store.ledgerPath), "wallet": wallet.map(JSONValue.string) ?? .null,
                "payments": .array(records.map { .object(Self.json($0)) }),
                "approvals": .array(
                    events.map { e in
                        .object([
                            "fetch_id": .string(e.fetchID), "at": .string(iso.string(from: e.at)),
                            "from": e.from.map { .string($0.rawValue) } ?? .null,
                            "to": .string(e.to.rawValue), "note": e.note.map(JSONValue.string) ?? .null,
                        ])
                    }),
            ])
            return
        }
        let formatter = ISO8601DateFormatter()
        if !events.isEmpty {
            print("approval queue (newest first):")
            for e in events {
                print(
                    "\(formatter.string(from: e.at))  \(e.fetchID)  \(e.from.map { "\($0.rawValue) → " } ?? "")\(e.to.rawValue)\(e.note.map { "  (\(peer($0)))" } ?? "")"
                )
            }
            print("")
        }
        if records.isEmpty {
            print("no payments recorded in \(store.ledgerPath)\(wallet.map { " for \($0)" } ?? "")")
            return
        }
        for r in records {
            let asset = AssetRegistry.standard.asset(address: r.asset, on: Network(r.network) ?? .eip155(0))
            let atomic = "\(peer(r.amount)) atomic units of \(peer(asset?.symbol ?? r.asset))"
            print(
                "\(formatter.string(from: r.createdAt))  \(r.status.rawValue.padding(toLength: max(8, r.status.rawValue.count), withPad: " ", startingAt: 0))  \(r.value) (\(atomic))"
            )
            print("  network      \(peer(KnownNetwork.describe(r.network)))")
            print("  recipient    \(peer(r.payTo))")
            if let resource = r.resource { print("  resource     \(peer(resource))") }
            if let tx = r.transaction { print("  transaction  \(peer(tx))") }
            if let reason = r.failureReason { print("  reason       \(peer(reason))") }
            if r.isOpen, let authorization = r.authorization {
                print("  counts until its authorization expires (\(formatter.string(from: authorization.validBefore))) and is read unused on chain")
            }
            if wallet == nil { print("  wallet       \(peer(r.wallet))") }
        }
    }

    static func json(_ r: SpendRecord) -> JSONObject {
        let iso = ISO8601DateFormatter()
        return [
            "id": .string(r.id.uuidString), "wallet": .string(r.wallet), "createdAt": .string(iso.string(from: r.createdAt)),
            "status": .string(r.status.rawValue), "resource": r.resource.map(JSONValue.string) ?? .null,
            "x402Version": .number(JSONNumber(Int(r.version.rawValue))), "scheme": .string(r.scheme), "network": .string(r.network),
            "asset": .string(r.asset), "payTo": .string(r.payTo), "amount": .string(r.amount), "usd": .string(r.value.decimalString),
            "transaction": r.transaction.map(JSONValue.string) ?? .null, "payer": r.payer.map(JSONValue.string) ?? .null,
            "failureReason": r.failureReason.map(JSONValue.string) ?? .null,
            "completedAt": r.completedAt.map { .string(iso.string(from: $0)) } ?? .null,
            "validBefore": r.authorization.map { .string(iso.string(from: $0.validBefore)) } ?? .null,
            "nonce": r.authorization.map { .string($0.nonce) } ?? .null,
        ]
    }
}
