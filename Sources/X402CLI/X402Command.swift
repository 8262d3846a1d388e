import ArgumentParser
import Logging

/// The `x402` command-line tool: a root command with one group or command per file.
///
/// To add a command, define an `AsyncParsableCommand` in its own file and list it in
/// ``X402Command/buyerCommands`` (BuyerCommands.swift) or ``X402Command/operatorCommands``.
@main
struct X402Command: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "x402",
        abstract: "x402 HTTP-402 payments: pay for resources, sell them, run a facilitator.",
        subcommands: buyerCommands + operatorCommands)

    /// Commands that run services (facilitator, and later the seller side).
    static var operatorCommands: [any ParsableCommand.Type] { [FacilitatorCommand.self, GatewayCommand.self] }

    /// Runs the tool with the process's arguments (see ``routed(_:)``).
    static func main() async {
        await main(routed(Array(CommandLine.arguments.dropFirst())))
    }

    /// `fetch confirm ID …` is routed to the hidden `fetch-confirm` command: `fetch` takes a URL
    /// as its first positional argument, so the argument parser cannot also give it a
    /// `confirm` subcommand (it would read `confirm` as the URL).
    static func routed(_ arguments: [String]) -> [String] {
        guard arguments.count >= 2, arguments[0] == "fetch", arguments[1] == "confirm" else { return arguments }
        return [FetchCommand.Confirm.configuration.commandName ?? "fetch-confirm"] + arguments.dropFirst(2)
    }
}

/// Sends the service commands' logs to stderr at `level` (a swift-log level name; default info).
func bootstrapStandardErrorLogging(level: String?) {
    let threshold = level.flatMap(Logger.Level.init(rawValue:)) ?? .info
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = threshold
        return handler
    }
}
