import ArgumentParser
import Foundation
import X402
import X402EVM
import X402SQLite

/// `x402 limits show|set`: the spending policy, persisted beside the ledger.
struct LimitsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "limits",
        abstract: "Show or change your spending limits (kept in policy.json beside the ledger).",
        subcommands: [Show.self, SetLimits.self],
        defaultSubcommand: Show.self)
}

extension LimitsCommand {
    /// `x402 limits show`
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the limits and, with a key, the spending in the last 24 hours.")

        @OptionGroup var keys: KeyOptions
        @OptionGroup var store: StoreOptions

        @Flag(name: .long, help: "Print one JSON object on stdout.")
        var json = false

        func run() async throws {
            let path = store.policyPath
            let limits = try LimitsFile.load(path: path)
            let policy = try limits.policy()
            // The spending is shown only when a key is at hand (explicitly, or by default sources).
            let key = keys.isExplicit ? try keys.load() : try? keys.load()
            var spent: DollarAmount?
            var hostSpent: [(String, DollarAmount, DollarAmount)] = []
            if let key, FileManager.default.fileExists(atPath: store.ledgerPath) {
                let ledger = try SQLiteSpendLedger(path: store.ledgerPath)
                await LedgerReconciliation.run(ledger: ledger, quiet: json)
                let window = policy.budget?.window ?? SpendBudget.day
                spent = try await ledger.spent(
                    by: key.address.checksummed, since: Date().addingTimeInterval(-TimeInterval(window.components.seconds)))
                for (host, limit) in policy.hostLimits.limits.sorted(by: { $0.key < $1.key }) {
                    let since = Date().addingTimeInterval(-TimeInterval(policy.hostLimits.window.components.seconds))
                    hostSpent.append((host, try await ledger.spent(by: key.address.checksummed, host: host, since: since), limit))
                }
            } else if key != nil {
                spent = .zero
            }
            let isDefault = !FileManager.default.fileExists(atPath: path)
            if json {
                BuyerOutput.printJSON([
                    "file": .string(path), "defaults": .bool(isDefault), "limits": .object(limits.json),
                    "wallet": key.map { .string($0.address.checksummed) } ?? .null, "spent24h": spent.map { .string($0.decimalString) } ?? .null,
                    "remaining24h": spent.flatMap { s in policy.budget.map { JSONValue.string(($0.limit - s).decimalString) } } ?? .null,
                    "hosts": .array(
                        hostSpent.map { host, spent, limit in
                            .object([
                                "host": .string(host), "limit": .string(limit.decimalString), "spent24h": .string(spent.decimalString),
                                "remaining24h": .string((limit - spent).decimalString),
                            ])
                        }),
                ])
            } else {
                print("limits from \(path)\(isDefault ? " (not written yet: defaults)" : "")")
                for line in limits.lines { print(line) }
                if let key, let spent {
                    let left = policy.budget.map { " (\($0.limit - spent) left)" } ?? ""
                    print("spent in the last 24 hours by \(key.address.checksummed): \(spent)\(left)")
                    for (host, spent, limit) in hostSpent { print("  on \(host): \(spent) of \(limit) (\(limit - spent) left)") }
                }
            }
        }
    }

    /// `x402 limits set`
    struct SetLimits: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Change limits; unchanged ones keep their value. Dollar amounts like 0.25; 'none' removes a limit.")

        @OptionGroup var store: StoreOptions

        @Option(name: .long, help: ArgumentHelp("Refuse any single payment above this.", valueName: "dollars|none"))
        var cap: String?

        @Option(name: .long, help: ArgumentHelp("Ask before paying more than this (--yes or a terminal answer).", valueName: "dollars|none"))
        var approvalThreshold: String?

        @Option(name: .long, help: ArgumentHelp("Spend at most this per wallet in any 24 hours.", valueName: "dollars|none"))
        var dailyBudget: String?

        @Option(name: .long, help: ArgumentHelp("Pay only these recipients (repeatable; adds to the list).", valueName: "address"))
        var allowRecipient: [String] = []

        @Option(name: .long, help: ArgumentHelp("Never pay this recipient (repeatable; adds to the list).", valueName: "address"))
        var denyRecipient: [String] = []

        @Option(name: .long, help: ArgumentHelp("Pay only in these assets: address or symbol (repeatable).", valueName: "asset"))
        var allowAsset: [String] = []

        @Option(name: .long, help: ArgumentHelp("Pay only on these networks, e.g. eip155:8453 or eip155:* (repeatable).", valueName: "caip2"))
        var allowNetwork: [String] = []

        @Option(name: .long, help: ArgumentHelp("Sign authorizations valid for at most this many seconds (default 600).", valueName: "seconds"))
        var maxValidity: Int?

        @Flag(name: .long, help: "Remove the recipient allow list (any recipient).")
        var anyRecipient = false
        @Flag(name: .long, help: "Empty the recipient deny list.")
        var clearDenied = false
        @Flag(name: .long, help: "Remove the asset allow list (any priced asset).")
        var anyAsset = false
        @Flag(name: .long, help: "Remove the network allow list (any network).")
        var anyNetwork = false
        @Flag(name: .long, help: "Start from the defaults ($1.00 cap, $0.10 approval threshold, $10.00 per 24 hours) instead of the current file.")
        var reset = false

        @Option(
            name: .long, help: ArgumentHelp("Recipient firewall: on (only allowed recipients are paid without approval) or off.", valueName: "on|off")
        )
        var firewall: String?

        @Option(name: .long, help: ArgumentHelp("Firewall: pay this recipient without approval (repeatable).", valueName: "address"))
        var trustRecipient: [String] = []

        @Option(name: .long, help: ArgumentHelp("Firewall: pay this host without approval, or *.example.com (repeatable).", valueName: "host"))
        var trustHost: [String] = []

        @Option(name: .long, help: ArgumentHelp("Firewall: never pay this host, or *.example.com (repeatable).", valueName: "host"))
        var denyHost: [String] = []

        @Option(
            name: .long, help: ArgumentHelp("Spend at most this on one host in any 24 hours (repeatable; 'none' removes).", valueName: "host=dollars")
        )
        var hostLimit: [String] = []

        @Option(name: .long, help: ArgumentHelp("The 24-hour limit for hosts without their own.", valueName: "dollars|none"))
        var defaultHostLimit: String?

        @Option(name: .long, help: ArgumentHelp("How long a probed or queued purchase stays approvable and confirmable.", valueName: "seconds"))
        var approvalLifetime: Int?

        @Option(
            name: .long,
            help: ArgumentHelp("Run this shell command for each purchase awaiting approval (JSON on stdin); 'none' removes.", valueName: "command"))
        var notifyCommand: String?

        @Option(name: .long, help: ArgumentHelp("POST each purchase awaiting approval to this URL; 'none' removes.", valueName: "url"))
        var notifyWebhook: String?

        @Flag(name: .long, help: "Print the result as one JSON object.")
        var json = false

        func validate() throws {
            for (flag, value) in [("--cap", cap), ("--approval-threshold", approvalThreshold), ("--daily-budget", dailyBudget)] {
                guard let value, value.lowercased() != "none" else { continue }
                do { _ = try DollarAmount(value) } catch { throw ValidationError("\(flag): \(value) is not a dollar amount or 'none'") }
            }
            if let firewall, !["on", "off"].contains(firewall) { throw ValidationError("--firewall must be on or off") }
            for entry in hostLimit {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, parts[1].lowercased() == "none" || (try? DollarAmount(parts[1])) != nil else {
                    throw ValidationError("--host-limit: \(entry) is not host=dollars or host=none")
                }
            }
            if let value = defaultHostLimit, value.lowercased() != "none", (try? DollarAmount(value)) == nil {
                throw ValidationError("--default-host-limit: \(value) is not a dollar amount or 'none'")
            }
            for n in allowNetwork where NetworkPattern(n) == nil {
                throw ValidationError("--allow-network: \(n) is not a CAIP-2 network or pattern")
            }
        }

        func run() async throws {
            let path = store.policyPath
            var limits = reset ? LimitsFile.defaults : try LimitsFile.load(path: path)
            func amount(_ text: String?, _ current: String?) -> String? {
                guard let text else { return current }
                return text.lowercased() == "none" ? nil : (try? DollarAmount(text))?.decimalString
            }
            limits.perPaymentCap = amount(cap, limits.perPaymentCap)
            limits.approvalThreshold = amount(approvalThreshold, limits.approvalThreshold)
            limits.dailyBudget = amount(dailyBudget, limits.dailyBudget)
            if anyRecipient { limits.allowedRecipients = nil }
            if clearDenied { limits.deniedRecipients = nil }
            if anyAsset { limits.allowedAssets = nil }
            if anyNetwork { limits.allowedNetworks = nil }
            if let maxValidity { limits.maxValiditySeconds = maxValidity }
            func add(_ items: [String], to list: [String]?) -> [String]? {
                guard !items.isEmpty else { return list }
                var result = list ?? []
                for item in items where !result.contains(item) { result.append(item) }
                return result
            }
            limits.allowedRecipients = add(allowRecipient, to: limits.allowedRecipients)
            limits.deniedRecipients = add(denyRecipient, to: limits.deniedRecipients)
            limits.allowedAssets = add(allowAsset, to: limits.allowedAssets)
            limits.allowedNetworks = add(allowNetwork, to: limits.allowedNetworks)
            var wall = limits.firewall ?? LimitsFile.FirewallFile()
            if let firewall { wall.enabled = firewall == "on" }
            wall.allowRecipients = add(trustRecipient, to: wall.allowRecipients)
            wall.allowHosts = add(trustHost.map { $0.lowercased() }, to: wall.allowHosts)
            wall.denyHosts = add(denyHost.map { $0.lowercased() }, to: wall.denyHosts)
            if wall != LimitsFile.FirewallFile() || limits.firewall != nil { limits.firewall = wall }
            for entry in hostLimit {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                var table = limits.hostDailyLimits ?? [:]
                table[parts[0].lowercased()] = parts[1].lowercased() == "none" ? nil : (try? DollarAmount(parts[1]))?.decimalString
                limits.hostDailyLimits = table.isEmpty ? nil : table
            }
            limits.defaultHostDailyLimit = amount(defaultHostLimit, limits.defaultHostDailyLimit)
            if let approvalLifetime { limits.approvalLifetimeSeconds = approvalLifetime }
            if let notifyCommand { limits.notifyCommand = notifyCommand.lowercased() == "none" ? nil : notifyCommand }
            if let notifyWebhook { limits.notifyWebhook = notifyWebhook.lowercased() == "none" ? nil : notifyWebhook }
            _ = try limits.policy()
            try limits.save(path: path)
            if json {
                BuyerOutput.printJSON(["file": .string(path), "limits": .object(limits.json)])
            } else {
                print("saved \(path)")
                for line in limits.lines { print(line) }
            }
        }
    }
}
