import ArgumentParser

extension X402Command {
    /// The buyer's commands (`quote`, `fetch`, `approvals`, `limits`, `history`, `wallet`, `mcp`), each in its own file.
    static var buyerCommands: [any ParsableCommand.Type] {
        [
            QuoteCommand.self, FetchCommand.self, FetchCommand.Confirm.self, ApprovalsCommand.self, LimitsCommand.self, HistoryCommand.self,
            WalletCommand.self, ReceiptCommand.self, DiscoverCommand.self, MCPCommand.self,
        ]
    }
}
