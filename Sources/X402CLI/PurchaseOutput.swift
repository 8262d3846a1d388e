import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import X402

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a pending purchase is shown: the seed's JSON shape and human lines, with the exact
/// commands that come next.
struct PurchaseView {
    let purchase: PendingPurchase
    /// Flags the follow-up commands need (`--ledger`, `--policy`, `--key-file`), shell-quoted.
    let commandFlags: String

    init(_ purchase: PendingPurchase, store: StoreOptions, keys: KeyOptions? = nil) {
        self.init(purchase, commandFlags: Self.flags(store: store, keys: keys))
    }

    init(_ purchase: PendingPurchase, commandFlags: String) {
        self.purchase = purchase
        self.commandFlags = commandFlags
    }

    /// The flags the follow-up commands need, with a leading space (or empty).
    static func flags(store: StoreOptions, keys: KeyOptions?) -> String {
        var flags: [String] = []
        if let ledger = store.ledger { flags += ["--ledger", shellQuoted(ledger)] }
        if let policy = store.policy { flags += ["--policy", shellQuoted(policy)] }
        if let keyFile = keys?.keyFile { flags += ["--key-file", shellQuoted(keyFile)] }
        if let keyEnv = keys?.keyEnv { flags += ["--key-env", shellQuoted(keyEnv)] }
        return flags.isEmpty ? "" : " " + flags.joined(separator: " ")
    }

    var id: String { purchase.fetchID }
    var confirmCommand: String { "x402 fetch confirm \(id)\(commandFlags)" }
    var approveCommand: String { "x402 approvals approve \(id)\(storeFlagsOnly)" }
    var denyCommand: String { "x402 approvals deny \(id)\(storeFlagsOnly)" }
    private var storeFlagsOnly: String {
        // The owner's commands need no key.
        commandFlags.components(separatedBy: " --key-").first ?? ""
    }

    /// What to do next, for people and agents.
    var nextStep: String {
        switch purchase.status {
        case .preApproved, .approved: "confirm: run confirm_command to pay (within the quoted terms) before expires_at"
        case .awaitingApproval: "wait for the owner to approve (\(approveCommand)), then run confirm_command before expires_at"
        case .paying: "none: another confirmation is paying it"
        case .paid: "none: paid"
        case .denied, .expired, .failed: "none: probe again for a new fetch_id"
        }
    }

    var json: JSONObject {
        let iso = ISO8601DateFormatter()
        let p = purchase
        var o: JSONObject = [
            "fetch_id": .string(p.fetchID), "status": .string(p.status.rawValue), "url": .string(p.url), "method": .string(p.method),
            "amount_usdc": .string(p.tokens(p.amount)), "fee_usdc": .string(p.tokens(p.fee)), "total_usdc": .string(p.tokens(p.total)),
            "amount_atomic": .string(p.amount.decimalString), "fee_atomic": .string(p.fee.decimalString),
            "total_atomic": .string(p.total.decimalString), "usd": p.value.map { .string($0.decimalString) } ?? .null,
            "asset": .string(p.terms.asset), "symbol": p.symbol.map(JSONValue.string) ?? .null, "recipient": .string(p.terms.payTo),
            "network": .string(p.terms.network), "network_name": .string(KnownNetwork.describe(p.terms.network)),
            "scheme": .string(p.terms.scheme), "host": p.host.map(JSONValue.string) ?? .null, "wallet": .string(p.wallet),
            "created_at": .string(iso.string(from: p.createdAt)), "expires_at": .string(iso.string(from: p.expiresAt)),
            "reasons": .array(p.reasons.map(JSONValue.string)), "next_step": .string(nextStep),
            "confirm_command": PurchaseStatus.payable.contains(p.status) || p.status == .awaitingApproval ? .string(confirmCommand) : .null,
        ]
        if p.status == .awaitingApproval {
            o["approve_command"] = .string(approveCommand)
            o["deny_command"] = .string(denyCommand)
        }
        o["transaction"] = p.transaction.map(JSONValue.string) ?? .null
        o["note"] = p.note.map(JSONValue.string) ?? .null
        o["spend_record"] = p.spendRecord.map { .string($0.uuidString) } ?? .null
        return o
    }

    /// Human lines; every peer string escaped.
    var lines: [String] {
        let p = purchase
        let symbol = p.symbol ?? "tokens"
        var lines = [
            "\(p.status.rawValue)  fetch_id \(p.fetchID)",
            "  \(peer(p.method)) \(peer(p.url))",
            "  amount       \(peer(p.tokens(p.amount))) \(peer(symbol)) (fee \(peer(p.tokens(p.fee))), total \(peer(p.tokens(p.total))) \(peer(symbol)))",
            "  recipient    \(peer(p.terms.payTo))",
            "  network      \(peer(KnownNetwork.describe(p.terms.network)))",
            "  expires      \(ISO8601DateFormatter().string(from: p.expiresAt))",
        ]
        for reason in p.reasons { lines.append("  needs approval: \(peer(reason))") }
        if let transaction = p.transaction { lines.append("  transaction  \(peer(transaction))") }
        if let note = p.note, [.denied, .failed, .expired].contains(p.status) { lines.append("  note         \(peer(note))") }
        switch p.status {
        case .preApproved, .approved: lines.append("next: \(confirmCommand)")
        case .awaitingApproval:
            lines.append("next: the owner approves with `\(approveCommand)` (or denies with `\(denyCommand)`),")
            lines.append("      then: \(confirmCommand)")
        default: break
        }
        return lines
    }
}

/// Single-quotes `text` for a POSIX shell when it holds anything but safe characters.
func shellQuoted(_ text: String) -> String {
    let safe = text.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "/._-+:=@,".unicodeScalars.contains($0) }
    return safe && !text.isEmpty ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Tells the owner about a purchase awaiting approval: runs the hook command with the purchase
/// as JSON on stdin, and POSTs it to the webhook. Failures are reported on stderr, never fatal.
/// Nothing secret is put on argv, and the wallet key's environment variables are removed from
/// the hook's environment.
struct PurchaseNotifier: Sendable {
    var command: String?
    var webhook: String?
    /// Environment variables never passed to the hook (the key's).
    var hiddenVariables: Set<String>

    var isEmpty: Bool { command == nil && webhook == nil }

    func notify(_ object: JSONObject) async {
        let body = JSONValue.object(["event": .string("purchase.awaiting_approval"), "purchase": .object(object)]).serialized()
        if let command { run(command, input: body) }
        if let webhook { await post(webhook, body: body) }
    }

    private func run(_ command: String, input: [UInt8]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        var environment = ProcessInfo.processInfo.environment
        for name in hiddenVariables { environment[name] = nil }
        process.environment = environment
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.standardError
        // A hook that exits without reading its stdin must not kill this process (SIGPIPE) or
        // trap it (a failed write): the write's error is ignored.
        signal(SIGPIPE, SIG_IGN)
        do {
            try process.run()
            try? stdin.fileHandleForWriting.write(contentsOf: Data(input))
            try? stdin.fileHandleForWriting.close()
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                process.terminate()
                BuyerOutput.warn("note: the notify command did not finish within 30 seconds and was stopped")
            } else if process.terminationStatus != 0 {
                BuyerOutput.warn("note: the notify command exited with status \(process.terminationStatus)")
            }
        } catch {
            BuyerOutput.warn("note: the notify command could not be run: \(error)")
        }
    }

    private func post(_ url: String, body: [UInt8]) async {
        // The URL may carry a token: only its host is ever printed.
        let host = URLComponents(string: url)?.host ?? "the webhook"
        do {
            try await withCLIHTTPClient(timeout: 10) { http in
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: body))
                let response = try await http.execute(request, timeout: .seconds(10))
                if !(200..<300).contains(Int(response.status.code)) {
                    BuyerOutput.warn("note: the notify webhook at \(peer(host)) answered HTTP \(response.status.code)")
                }
            }
        } catch {
            BuyerOutput.warn("note: the notify webhook at \(peer(host)) could not be reached")
        }
    }
}
