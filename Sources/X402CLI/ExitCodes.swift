import ArgumentParser

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
    /// Recorded as a purchase awaiting the owner's approval: nothing was signed.
    case awaitingApproval = 8
    /// `fetch confirm`: the purchase cannot be confirmed (unknown, awaiting approval, denied,
    /// expired, or paid already — nothing was paid).
    case notConfirmable = 9

    var code: ExitCode { ExitCode(rawValue) }

    /// The help text listing every code.
    static let help = """
        Exit codes: 0 paid; 2 free (served without payment); 3 refused by the spending policy \
        (nothing signed); 4 payment rejected by the server; 5 network error; 6 HTTP error or \
        unreadable 402; 7 payment pending (settlement not confirmed yet: do not pay again); \
        8 awaiting the owner's approval (nothing signed); 9 purchase not confirmable (nothing paid); \
        64 usage error; 1 other error (e.g. unreadable key).
        """
}
