import ArgumentParser
import Foundation
import X402
import X402SQLite

/// `x402 approvals list|approve|deny`: the owner's side of the approval queue.
struct ApprovalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approvals",
        abstract: "List, approve or deny purchases awaiting your approval (kept in the ledger file).",
        discussion: """
            Purchases are recorded by `x402 fetch --probe` and by prices that need approval (above the \
            approval threshold, or a recipient the firewall does not allow). Approving lets \
            `x402 fetch confirm ID` pay it once, within the quoted terms, until it expires. No key is needed.
            """,
        subcommands: [List.self, Approve.self, Deny.self, Recover.self],
        defaultSubcommand: List.self)
}

extension ApprovalsCommand {
    /// `x402 approvals list`
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List open purchases (awaiting approval, approved, pre-approved), newest first.")

        @OptionGroup var store: StoreOptions

        @Flag(name: .long, help: "Every purchase, whatever its status.")
        var all = false

        @Option(name: .long, help: ArgumentHelp("Only purchases in this status (repeatable).", valueName: "status"))
        var status: [String] = []

        @Option(name: .long, help: "At most this many (default 50).")
        var limit = 50

        @Flag(name: .long, help: "Print one JSON object on stdout.")
        var json = false

        func validate() throws {
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 10000") }
            for s in status where PurchaseStatus(rawValue: s) == nil {
                throw ValidationError("--status: \(s) is not one of \(PurchaseStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() async throws {
            var purchases: [PendingPurchase] = []
            if FileManager.default.fileExists(atPath: store.ledgerPath) {
                let approvals = try OwnerQueue.ownerSide(store: store)
                let statuses: Set<PurchaseStatus>? =
                    !status.isEmpty ? Set(status.compactMap(PurchaseStatus.init(rawValue:))) : all ? nil : PurchaseStatus.open
                purchases = try await approvals.list(statuses: statuses, limit: limit)
            }
            let views = purchases.map { PurchaseView($0, store: store) }
            if json {
                BuyerOutput.printJSON(["ledger": .string(store.ledgerPath), "purchases": .array(views.map { .object($0.json) })])
                return
            }
            if views.isEmpty {
                print("no \(all || !status.isEmpty ? "" : "open ")purchases in \(store.ledgerPath)")
                return
            }
            for view in views {
                for line in view.lines { print(line) }
                print("")
            }
        }
    }

    /// `x402 approvals approve ID`
    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a purchase awaiting approval (confirmable until it expires).")

        @Argument(help: "The fetch_id.")
        var fetchID: String

        @OptionGroup var store: StoreOptions

        @Flag(name: .long, help: "Print one JSON object on stdout.")
        var json = false

        func validate() throws {
            guard PurchaseApprovals.isValidID(fetchID) else { throw ValidationError("not a fetch_id: \(peer(String(fetchID.prefix(80))))") }
        }

        func run() async throws {
            try await ownerDecision(fetchID, store: store, json: json) { try await $0.approve(fetchID) }
        }
    }

    /// `x402 approvals deny ID`
    struct Deny: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deny a purchase: it is never paid.")

        @Argument(help: "The fetch_id.")
        var fetchID: String

        @Option(name: .long, help: "Why (kept in the ledger).")
        var reason: String?

        @OptionGroup var store: StoreOptions

        @Flag(name: .long, help: "Print one JSON object on stdout.")
        var json = false

        func validate() throws {
            guard PurchaseApprovals.isValidID(fetchID) else { throw ValidationError("not a fetch_id: \(peer(String(fetchID.prefix(80))))") }
            if let reason, reason.count > 500 { throw ValidationError("--reason is longer than 500 characters") }
        }

        func run() async throws {
            let note = reason.map { "denied by the owner: \($0)" }
            try await ownerDecision(fetchID, store: store, json: json) { try await $0.deny(fetchID, note: note) }
        }
    }
}

extension ApprovalsCommand {
    /// `x402 approvals recover ID`
    struct Recover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Settle a purchase left paying by a confirmation that never finished (reads the ledger; never pays).",
            discussion: """
                A purchase claimed by `x402 fetch confirm` stays `paying` if that process dies. After \
                --stuck-after seconds this reads the spend ledger (reconciling expired payments on chain \
                first): a settled payment marks it paid, no payment or a failed one marks it failed, and a \
                signed payment that may still settle leaves it paying until its authorization expires.
                """)

        @Argument(help: "The fetch_id.")
        var fetchID: String

        @OptionGroup var store: StoreOptions

        @Option(name: .long, help: "Only purchases claimed at least this many seconds ago (default 600).")
        var stuckAfter = 600

        @Flag(name: .long, help: "Print one JSON object on stdout.")
        var json = false

        func validate() throws {
            guard PurchaseApprovals.isValidID(fetchID) else { throw ValidationError("not a fetch_id: \(peer(String(fetchID.prefix(80))))") }
            guard (60...86_400).contains(stuckAfter) else { throw ValidationError("--stuck-after must be between 60 and 86400") }
        }

        func run() async throws {
            guard FileManager.default.fileExists(atPath: store.ledgerPath) else { throw BuyerError("no ledger at \(store.ledgerPath)") }
            let ledger: SQLiteSpendLedger
            do {
                ledger = try SQLiteSpendLedger(path: store.ledgerPath)
            } catch {
                throw BuyerError("cannot open the spend ledger \(store.ledgerPath): \(error)")
            }
            // Payments whose authorization expired are settled or released from the chain first.
            await LedgerReconciliation.run(ledger: ledger, quiet: json)
            let approvals = try OwnerQueue.ownerSide(store: store, ledger: ledger)
            let fetchID = fetchID
            let stuckAfter = stuckAfter
            let json = json
            try await ownerDecision(fetchID, store: store, json: json, approvals: approvals) { approvals in
                switch try await approvals.recover(fetchID, stuckAfter: .seconds(stuckAfter)) {
                case .paid(let purchase), .failed(let purchase):
                    return purchase
                case .undecided(let record, let validBefore):
                    let until = validBefore.map { SignInTime.format($0) }
                    if json {
                        BuyerOutput.printJSON([
                            "fetch_id": .string(fetchID), "status": "paying", "undecided": true, "spend_record": .string(record.uuidString),
                            "valid_before": until.map { .string($0) } ?? .null,
                        ])
                    } else {
                        print(
                            "purchase \(fetchID) stays paying: its signed payment (ledger record \(record.uuidString)) may still settle"
                                + (until.map { " until \($0); run this again after that" } ?? ""))
                    }
                    return nil
                }
            }
        }
    }
}

/// Runs an owner's decision and prints the purchase (exit 9 when it cannot be made).
private func ownerDecision(
    _ fetchID: String, store: StoreOptions, json: Bool, approvals given: PurchaseApprovals? = nil,
    _ decide: (PurchaseApprovals) async throws -> PendingPurchase?
) async throws {
    guard FileManager.default.fileExists(atPath: store.ledgerPath) else { throw BuyerError("no ledger at \(store.ledgerPath)") }
    let approvals = try given ?? OwnerQueue.ownerSide(store: store)
    do {
        guard let purchase = try await decide(approvals) else { return }
        let view = PurchaseView(purchase, store: store)
        if json {
            BuyerOutput.printJSON(view.json)
        } else {
            for line in view.lines { print(line) }
        }
    } catch let error as PurchaseApprovalError {
        if json {
            let current = try? await approvals.purchase(fetchID)
            BuyerOutput.printJSON([
                "fetch_id": .string(fetchID), "status": current.map { .string($0.status.rawValue) } ?? .null, "error": .string(error.description),
            ])
        }
        BuyerOutput.warn(peer(error.description))
        throw BuyerExit.notConfirmable.code
    }
}
