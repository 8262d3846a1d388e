import ArgumentParser
import Foundation

/// Where the ledger and the limits file live.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The spend ledger (SQLite). Default: $X402_LEDGER, else $X402_HOME/ledger.sqlite (X402_HOME defaults to ~/.x402).", valueName: "path"))
    var ledger: String?

    @Option(
        name: .long,
        help: ArgumentHelp("The spending-limits file (JSON). Default: $X402_POLICY, else policy.json beside the ledger.", valueName: "path"))
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
