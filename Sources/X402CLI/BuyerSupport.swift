import ArgumentParser
import Foundation
import X402
import X402EVM

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The exit codes of the buyer's commands (documented in docs/cli.md and in `--help`).
enum BuyerExit: Int32 {
    /// Paid, and the server delivered the resource.
    case paid = 0
    /// The resource was served without payment (no 402).
    case free = 2
    /// The spending policy refused to pay (nothing was signed).
    case refused = 3
    /// A payment was sent and the server rejected it (verification or settlement failed).
    case rejected = 4
    /// The server could not be reached, or the transfer failed.
    case network = 5
    /// The server answered with an error status (other than a readable 402), or an unreadable 402.
    case httpError = 6
    /// A payment was sent and its settlement was still pending when the client stopped
    /// re-presenting it: do not pay again; the transaction is reported.
    case pending = 7

    var code: ExitCode { ExitCode(rawValue) }

    /// The help text listing every code.
    static let help = """
        Exit codes: 0 paid; 2 free (served without payment); 3 refused by the spending policy \
        (nothing signed); 4 payment rejected by the server; 5 network error; 6 HTTP error or \
        unreadable 402; 7 payment pending (settlement not confirmed yet: do not pay again); \
        64 usage error; 1 other error (e.g. unreadable key).
        """
}

/// Where the wallet's private key comes from: a file or an environment variable, never argv.
struct KeyOptions: ParsableArguments {
    /// The environment variable read when neither option is given.
    static let defaultEnvironmentVariable = "X402_PRIVATE_KEY"

    @Option(name: .long, help: ArgumentHelp("A file holding the wallet's private key (64 hex digits). Default: $X402_KEY_FILE, else $X402_HOME/key when it exists.", valueName: "path"))
    var keyFile: String?

    @Option(name: .long, help: ArgumentHelp("An environment variable holding the private key (default X402_PRIVATE_KEY).", valueName: "name"))
    var keyEnv: String?

    /// Accepted only to refuse it with a clear message (the value is never echoed).
    @Option(name: [.customLong("key"), .customLong("private-key")], help: .hidden)
    var keyOnCommandLine: String?

    func validate() throws {
        if keyOnCommandLine != nil {
            throw ValidationError(
                "private keys are never accepted on the command line (they leak into shell history and process lists); use --key-file PATH or --key-env NAME")
        }
        if keyFile != nil && keyEnv != nil { throw ValidationError("use either --key-file or --key-env, not both") }
    }

    /// The key, or a ``BuyerError`` saying where it was looked for.
    func load() throws -> PrivateKey {
        let environment = ProcessInfo.processInfo.environment
        if let keyFile { return try Self.read(file: keyFile) }
        if let keyEnv { return try Self.read(environment: keyEnv) }
        if let value = environment[Self.defaultEnvironmentVariable], !value.isEmpty {
            return try Self.read(environment: Self.defaultEnvironmentVariable)
        }
        if let file = environment["X402_KEY_FILE"], !file.isEmpty { return try Self.read(file: file) }
        let home = BuyerPaths.home + "/key"
        if FileManager.default.fileExists(atPath: home) { return try Self.read(file: home) }
        throw BuyerError(
            "no wallet key: pass --key-file PATH or --key-env NAME, set \(Self.defaultEnvironmentVariable), or create one with `x402 wallet new`")
    }

    /// Whether any key source was named explicitly.
    var isExplicit: Bool { keyFile != nil || keyEnv != nil }

    static func read(file path: String) throws -> PrivateKey {
        do {
            let key = try PrivateKey(contentsOfFile: path)
            warnIfShared(path)
            return key
        } catch {
            throw BuyerError("cannot use the key in \(path): \(error)")
        }
    }

    static func read(environment name: String) throws -> PrivateKey {
        do {
            return try PrivateKey(environmentVariable: name)
        } catch {
            throw BuyerError("cannot use the key in $\(name): \(error)")
        }
    }

    /// Warns (stderr) when a key file is readable by group or others.
    static func warnIfShared(_ path: String) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let mode = attributes[.posixPermissions] as? NSNumber
        else { return }
        if mode.intValue & 0o077 != 0 {
            BuyerOutput.warn("warning: key file \(path) is accessible by other users (mode \(String(mode.intValue, radix: 8))); chmod 600 it")
        }
    }
}

/// Where the ledger and the limits file live.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The spend ledger (SQLite). Default: $X402_LEDGER, else $X402_HOME/ledger.sqlite (X402_HOME defaults to ~/.x402).", valueName: "path"))
    var ledger: String?

    @Option(name: .long, help: ArgumentHelp("The spending-limits file (JSON). Default: $X402_POLICY, else policy.json beside the ledger.", valueName: "path"))
    var policy: String?

    var ledgerPath: String {
        if let ledger { return BuyerPaths.expand(ledger) }
        if let env = ProcessInfo.processInfo.environment["X402_LEDGER"], !env.isEmpty { return BuyerPaths.expand(env) }
        return BuyerPaths.home + "/ledger.sqlite"
    }

    var policyPath: String {
        if let policy { return BuyerPaths.expand(policy) }
        if let env = ProcessInfo.processInfo.environment["X402_POLICY"], !env.isEmpty { return BuyerPaths.expand(env) }
        return (ledgerPath as NSString).deletingLastPathComponent + "/policy.json"
    }
}

enum BuyerPaths {
    /// `$X402_HOME`, else `~/.x402`.
    static var home: String {
        if let env = ProcessInfo.processInfo.environment["X402_HOME"], !env.isEmpty { return expand(env) }
        return FileManager.default.homeDirectoryForCurrentUser.path + "/.x402"
    }

    static func expand(_ path: String) -> String { (path as NSString).expandingTildeInPath }
}

/// A failure reported on stderr with exit code 1.
struct BuyerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum BuyerOutput {
    /// Writes one line to stderr.
    static func warn(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Writes one JSON object (one line) to stdout.
    static func printJSON(_ object: JSONObject) {
        FileHandle.standardOutput.write(Data(JSONValue.object(object).serialized() + [UInt8(ascii: "\n")]))
    }

    static func write(_ bytes: [UInt8]) {
        FileHandle.standardOutput.write(Data(bytes))
    }

    /// Whether stdin and stderr are terminals (an interactive user can answer a prompt).
    static var isInteractive: Bool { isatty(0) == 1 && isatty(2) == 1 }
}

/// One priced option, for human and JSON output.
struct PriceDescription {
    let candidate: PaymentCandidate

    var decimalAmount: String? { candidate.tokenAmount }
    var symbol: String { candidate.asset?.symbol ?? candidate.requirements.asset }

    /// `$0.01 (10000 atomic units of USDC)`.
    var human: String {
        let atomic = "\(candidate.atomicAmount.decimalString) atomic units of \(symbol)"
        if let value = candidate.value { return "\(value) (\(atomic))" }
        return atomic
    }

    var json: JSONObject {
        var o: JSONObject = [
            "network": .string(candidate.network.identifier),
            "asset": .string(candidate.requirements.asset),
            "amount": .string(candidate.atomicAmount.decimalString),
            "amountDecimal": decimalAmount.map(JSONValue.string) ?? .null,
            "payTo": .string(candidate.payTo),
            "scheme": .string(candidate.scheme),
        ]
        o["symbol"] = candidate.asset.map { .string($0.symbol) } ?? .null
        o["usd"] = candidate.value.map { .string($0.decimalString) } ?? .null
        o["x402Version"] = .number(JSONNumber(Int(candidate.version.rawValue)))
        return o
    }
}

extension PaymentRefusal {
    /// A stable rule name for scripts.
    var rule: String {
        switch self {
        case .noSupportedOption: "noSupportedOption"
        case .networkNotAllowed: "networkNotAllowed"
        case .assetNotAllowed: "assetNotAllowed"
        case .recipientDenied: "recipientDenied"
        case .recipientNotAllowed: "recipientNotAllowed"
        case .unpricedAsset: "unpricedAsset"
        case .exceedsPerPaymentCap: "perPaymentCap"
        case .approvalDenied: "approvalThreshold"
        case .exceedsBudget: "budget"
        case .requestAlreadyCarriesPayment: "requestAlreadyCarriesPayment"
        case .crossOriginPaymentRequest: "crossOriginPayment"
        }
    }

    /// `{rule, message, ...numbers}`.
    var json: JSONObject {
        var o: JSONObject = ["rule": .string(rule), "message": .string(description)]
        switch self {
        case .exceedsPerPaymentCap(let amount, let cap):
            o["amount"] = .string(amount.decimalString)
            o["cap"] = .string(cap.decimalString)
        case .approvalDenied(let amount, let threshold):
            o["amount"] = .string(amount.decimalString)
            o["threshold"] = .string(threshold.decimalString)
        case .exceedsBudget(let amount, let spent, let budget, let window):
            o["amount"] = .string(amount.decimalString)
            o["spent"] = .string(spent.decimalString)
            o["budget"] = .string(budget.decimalString)
            o["windowSeconds"] = .number(JSONNumber(window.components.seconds))
        case .networkNotAllowed(let n): o["network"] = .string(n.identifier)
        case .assetNotAllowed(let a, let n), .unpricedAsset(let a, let n):
            o["asset"] = .string(a)
            o["network"] = .string(n.identifier)
        case .recipientDenied(let r), .recipientNotAllowed(let r): o["recipient"] = .string(r)
        case .noSupportedOption(let offered): o["offered"] = .array(offered.map(JSONValue.string))
        case .requestAlreadyCarriesPayment(let header): o["header"] = .string(header)
        case .crossOriginPaymentRequest(let requested, let answeredBy):
            o["requestedOrigin"] = .string(requested)
            o["paymentOrigin"] = .string(answeredBy)
        }
        return o
    }
}

extension SettleResponse {
    var summaryJSON: JSONObject {
        var o: JSONObject = [
            "success": .bool(success), "transaction": .string(transaction),
            "payer": payer.map(JSONValue.string) ?? .null, "network": .string(network),
        ]
        if let errorReason { o["errorReason"] = .string(errorReason.rawValue) }
        return o
    }
}
