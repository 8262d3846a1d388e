import Foundation
import X402

/// The persisted spending policy (`policy.json` beside the ledger).
///
/// Dollar amounts are decimal strings (`"0.50"`); a missing or `null` entry means no limit. When
/// the file does not exist, ``defaults`` apply.
struct LimitsFile: Codable, Equatable {
    /// Payments above this are refused.
    var perPaymentCap: String?
    /// Payments above this need approval (`--yes`, or an answer on a terminal).
    var approvalThreshold: String?
    /// At most this much per wallet in any rolling 24 hours.
    var dailyBudget: String?
    /// If set, only these recipients are paid.
    var allowedRecipients: [String]?
    /// Never paid.
    var deniedRecipients: [String]?
    /// If set, only these assets (addresses or symbols such as `USDC`).
    var allowedAssets: [String]?
    /// If set, only these networks (`eip155:8453`, `eip155:*`).
    var allowedNetworks: [String]?
    /// The longest validity window signed, in seconds (default 600): a server asking for more
    /// gets this much.
    var maxValiditySeconds: Int?
    /// The recipient firewall (absent: off, no host deny list).
    var firewall: FirewallFile?
    /// Per-host limits per rolling 24 hours, in dollars, by host name (`api.example.com`).
    var hostDailyLimits: [String: String]?
    /// The per-24-hours limit for every host without its own entry.
    var defaultHostDailyLimit: String?
    /// How long a probed or queued purchase can be approved and confirmed (default 900 seconds).
    var approvalLifetimeSeconds: Int?
    /// Run (with `/bin/sh -c`) for each purchase that starts awaiting approval, with the purchase
    /// as JSON on stdin (never on argv; the wallet key's variables are removed from its environment).
    var notifyCommand: String?
    /// POSTed each purchase that starts awaiting approval, as JSON (http or https URL).
    var notifyWebhook: String?

    /// The firewall section of the limits file.
    struct FirewallFile: Codable, Equatable {
        /// Whether only allowed recipients are paid without the owner's approval.
        var enabled: Bool?
        /// Recipient addresses paid without approval while the firewall is on.
        var allowRecipients: [String]?
        /// Hosts (`api.example.com`, `*.example.com`) paid without approval while it is on.
        var allowHosts: [String]?
        /// Recipient addresses never paid.
        var denyRecipients: [String]?
        /// Hosts never paid.
        var denyHosts: [String]?
    }

    /// The default approval lifetime (15 minutes).
    static let defaultApprovalLifetimeSeconds = 900

    /// The approval lifetime in force.
    var approvalLifetime: Duration { .seconds(approvalLifetimeSeconds ?? Self.defaultApprovalLifetimeSeconds) }

    /// The default cap on a signed authorization's validity window (10 minutes).
    static let defaultValiditySeconds = 600

    /// The validity cap in force.
    var validityCapSeconds: UInt64 { UInt64(max(maxValiditySeconds ?? Self.defaultValiditySeconds, 1)) }

    /// $1.00 per payment, approval above $0.10, $10.00 per 24 hours.
    static let defaults = LimitsFile(perPaymentCap: "1.00", approvalThreshold: "0.10", dailyBudget: "10.00")

    /// Reads `path`; ``defaults`` when it does not exist.
    static func load(path: String) throws -> LimitsFile {
        guard FileManager.default.fileExists(atPath: path) else { return .defaults }
        guard let data = FileManager.default.contents(atPath: path) else { throw BuyerError("cannot read the limits file \(path)") }
        do {
            let file = try JSONDecoder().decode(LimitsFile.self, from: data)
            _ = try file.policy()
            return file
        } catch let error as BuyerError {
            throw BuyerError("invalid limits file \(path): \(error)")
        } catch {
            throw BuyerError("invalid limits file \(path): \(error)")
        }
    }

    /// Writes the file atomically (creating its directory).
    func save(path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// The core policy, validating every entry.
    func policy() throws -> SpendingPolicy {
        if let seconds = maxValiditySeconds, !(1...86_400).contains(seconds) {
            throw BuyerError("maxValiditySeconds: \(seconds) is not between 1 and 86400")
        }
        var policy = SpendingPolicy()
        policy.perPaymentCap = try perPaymentCap.map { try Self.dollars($0, "perPaymentCap") }
        policy.approvalThreshold = try approvalThreshold.map { try Self.dollars($0, "approvalThreshold") }
        policy.budget = try dailyBudget.map { SpendBudget(limit: try Self.dollars($0, "dailyBudget")) }
        policy.allowedRecipients = allowedRecipients.map(Set.init)
        policy.deniedRecipients = Set(deniedRecipients ?? [])
        policy.allowedAssets = allowedAssets.map(Set.init)
        policy.allowedNetworks = try allowedNetworks.map { list in
            try list.map { text in
                guard let pattern = NetworkPattern(text) else { throw BuyerError("allowedNetworks: \(text) is not a CAIP-2 network or pattern") }
                return pattern
            }
        }
        if let seconds = approvalLifetimeSeconds, !(10...7 * 86_400).contains(seconds) {
            throw BuyerError("approvalLifetimeSeconds: \(seconds) is not between 10 and 604800")
        }
        if let webhook = notifyWebhook {
            guard let scheme = URLComponents(string: webhook)?.scheme?.lowercased(), ["http", "https"].contains(scheme),
                URLComponents(string: webhook)?.host?.isEmpty == false
            else { throw BuyerError("notifyWebhook: not an http(s) URL") }
        }
        if let firewall {
            policy.firewall = RecipientFirewall(
                enabled: firewall.enabled ?? false, allowedRecipients: Set(firewall.allowRecipients ?? []), allowedHosts: firewall.allowHosts ?? [],
                deniedRecipients: Set(firewall.denyRecipients ?? []), deniedHosts: firewall.denyHosts ?? [])
        }
        var hostLimits: [String: DollarAmount] = [:]
        for (host, limit) in hostDailyLimits ?? [:] {
            guard !host.isEmpty, !host.contains("/") else { throw BuyerError("hostDailyLimits: \(host) is not a host name") }
            hostLimits[host.lowercased()] = try Self.dollars(limit, "hostDailyLimits.\(host)")
        }
        policy.hostLimits = HostSpendLimits(
            limits: hostLimits, defaultLimit: try defaultHostDailyLimit.map { try Self.dollars($0, "defaultHostDailyLimit") })
        return policy
    }

    static func dollars(_ text: String, _ field: String) throws -> DollarAmount {
        do {
            return try DollarAmount(text)
        } catch {
            throw BuyerError("\(field): \(text) is not a dollar amount (\(error))")
        }
    }

    /// Human lines for `limits show`.
    var lines: [String] {
        func money(_ s: String?) -> String { s.flatMap { try? DollarAmount($0).description } ?? "none" }
        func list(_ l: [String]?) -> String { l.map { $0.isEmpty ? "(none)" : $0.joined(separator: ", ") } ?? "any" }
        return [
            "per-payment cap:      \(money(perPaymentCap))",
            "approval threshold:   \(money(approvalThreshold))",
            "budget per 24 hours:  \(money(dailyBudget))",
            "allowed recipients:   \(list(allowedRecipients))",
            "denied recipients:    \(deniedRecipients.map { $0.isEmpty ? "none" : $0.joined(separator: ", ") } ?? "none")",
            "allowed assets:       \(list(allowedAssets))",
            "allowed networks:     \(list(allowedNetworks))",
            "signed validity cap:  \(validityCapSeconds) seconds",
            "firewall:             \(firewall?.enabled == true ? "on (only allowed recipients are paid without approval)" : "off")",
            "  auto-approved recipients: \(list(firewall?.allowRecipients ?? []))",
            "  auto-approved hosts:      \(list(firewall?.allowHosts ?? []))",
            "  denied recipients:        \(list(firewall?.denyRecipients ?? []))",
            "  denied hosts:             \(list(firewall?.denyHosts ?? []))",
            "per-host limit (24 h): \((hostDailyLimits ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \(money($0.value))" }.joined(separator: ", ").nonEmpty ?? "none")"
                + (defaultHostDailyLimit.map { "; other hosts \(money($0))" } ?? ""),
            "approval lifetime:    \(approvalLifetimeSeconds ?? Self.defaultApprovalLifetimeSeconds) seconds",
            "notify:               \(notifyCommand != nil ? "command" : "")\(notifyCommand != nil && notifyWebhook != nil ? " and " : "")\(notifyWebhook != nil ? "webhook" : "")\(notifyCommand == nil && notifyWebhook == nil ? "none" : "")",
        ]
    }

    var json: JSONObject {
        func money(_ s: String?) -> JSONValue { s.flatMap { try? DollarAmount($0).decimalString }.map(JSONValue.string) ?? .null }
        func list(_ l: [String]?) -> JSONValue { l.map { .array($0.map(JSONValue.string)) } ?? .null }
        return [
            "perPaymentCap": money(perPaymentCap), "approvalThreshold": money(approvalThreshold), "dailyBudget": money(dailyBudget),
            "allowedRecipients": list(allowedRecipients), "deniedRecipients": list(deniedRecipients ?? []),
            "allowedAssets": list(allowedAssets), "allowedNetworks": list(allowedNetworks),
            "maxValiditySeconds": .number(JSONNumber(Int(validityCapSeconds))),
            "firewall": .object([
                "enabled": .bool(firewall?.enabled ?? false), "allowRecipients": list(firewall?.allowRecipients ?? []),
                "allowHosts": list(firewall?.allowHosts ?? []), "denyRecipients": list(firewall?.denyRecipients ?? []),
                "denyHosts": list(firewall?.denyHosts ?? []),
            ]),
            "hostDailyLimits": .object(JSONObject((hostDailyLimits ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, money($0.value)) })),
            "defaultHostDailyLimit": money(defaultHostDailyLimit),
            "approvalLifetimeSeconds": .number(JSONNumber(approvalLifetimeSeconds ?? Self.defaultApprovalLifetimeSeconds)),
            "notifyCommand": .bool(notifyCommand != nil), "notifyWebhook": .bool(notifyWebhook != nil),
        ]
    }
}

extension String {
    /// `nil` when empty.
    var nonEmpty: String? { isEmpty ? nil : self }
}
