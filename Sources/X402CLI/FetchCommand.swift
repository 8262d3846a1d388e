import ArgumentParser
import Foundation
import NIOCore
import X402
import X402EVM
import X402HTTP

/// `x402 fetch URL`: fetches a resource, paying once if it answers 402 and the limits allow.
struct FetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Fetch a URL, paying for it once if it asks for payment (within your limits).",
        discussion: """
            The response body goes to stdout; the payment summary (price, network, recipient, \
            transaction) goes to stderr. With --json, stdout carries exactly one JSON object instead.

            Payments above the approval threshold are paid only with --yes or after answering "y" on \
            a terminal; without a terminal they are refused. Every attempt is recorded in the ledger.

            Redirects are followed (at most 5); the payment header is only sent to the origin that \
            asked for payment. A 402 from another origin than the URL's (after a redirect) is paid \
            only with --allow-cross-origin-payment or after answering "y" on a terminal. If the \
            server reports the settlement pending, the same payment is re-sent for up to a minute \
            (never a second signature); if it is still pending, exit 7 reports the transaction.

            \(BuyerExit.help)
            """)

    @OptionGroup var request: RequestOptions
    @OptionGroup var keys: KeyOptions
    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: ArgumentHelp("Refuse to pay more than this for this request (dollars, e.g. 0.05).", valueName: "amount"))
    var max: String?

    @Flag(name: [.customShort("y"), .long], help: "Approve payments above the approval threshold (the cap and budget still apply).")
    var yes = false

    @Flag(name: .long, help: "Pay a 402 that comes from another origin than the URL's, after a redirect (the policy still applies).")
    var allowCrossOriginPayment = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "While the settlement is reported pending, re-send the same payment for up to this many seconds (default 60).", valueName: "seconds"))
    var pendingWait: Int = 60

    @Flag(name: .long, help: "Print one JSON object on stdout (stable keys, for scripts and agents).")
    var json = false

    func validate() throws {
        if let max {
            do { _ = try DollarAmount(max) } catch { throw ValidationError("--max: \(max) is not a dollar amount") }
        }
        guard (0...600).contains(pendingWait) else { throw ValidationError("--pending-wait must be between 0 and 600 seconds") }
    }

    func run() async throws {
        let key = try keys.load()
        let yes = self.yes
        let session = try BuyerSession(key: key, store: store, max: try max.map { try DollarAmount($0) }) { request in
            if yes { return true }
            guard BuyerOutput.isInteractive else { return false }
            return Self.ask(request)
        }
        await LedgerReconciliation.run(ledger: session.ledger, quiet: json)
        let payer = session.payer
        let request = self.request
        let allowCrossOrigin = allowCrossOriginPayment
        let options = PayingClientOptions(
            crossOriginPayment: { crossOrigin in
                if allowCrossOrigin { return true }
                guard BuyerOutput.isInteractive else { return false }
                return Self.ask(crossOrigin)
            },
            pendingSettlement: PendingSettlementPolicy(maxWait: .seconds(pendingWait), initialDelay: .seconds(2), maxDelay: .seconds(15)),
            signIn: EVMSignInSigner(key: key))
        let report = try await withCLIHTTPClient(timeout: request.timeout) { http in
            let client = PayingHTTPClient(httpClient: http, payer: payer, timeout: .seconds(Int64(request.timeout)), options: options)
            var report = FetchReport(url: request.url, json: json)
            do {
                let response = try await client.execute(try request.request())
                report.response(response)
            } catch let refusal as PaymentRefusal {
                report.refused(refusal, interactive: BuyerOutput.isInteractive)
            } catch let error as BuyerError {
                throw error
            } catch {
                let (exit, message) = RequestFailure.classify(error)
                report.failed(exit, message)
            }
            return report
        }
        report.emit()
        if report.exit != .paid { throw report.exit.code }
    }

    /// Asks on the terminal; anything but y/yes declines. Every server string is escaped, and a
    /// recipient that is not an address of the network is refused before any prompt.
    static func ask(_ request: PaymentApprovalRequest) -> Bool {
        let candidate = request.candidate
        if candidate.network.chainID != nil, (try? EthereumAddress(candidate.payTo, validatingChecksum: false)) == nil {
            BuyerOutput.warn("refusing: the recipient \(peer(candidate.payTo)) is not an EVM address")
            return false
        }
        let price = PriceDescription(candidate: candidate)
        BuyerOutput.warn(
            "Pay \(peer(price.human)) to \(peer(candidate.payTo)) on \(peer(candidate.network.humanDescription))"
                + " for \(peer(request.resource ?? "this resource"))? It is above your approval threshold of \(request.threshold). [y/N]")
        return readYes()
    }

    /// Asks whether to pay a 402 that came from another origin after a redirect.
    static func ask(_ request: CrossOriginPaymentRequest) -> Bool {
        BuyerOutput.warn(
            "\(peer(request.requestedURL)) redirected to \(peer(request.paymentURL)), another origin, which asks for payment."
                + " Pay that origin? [y/N]")
        return readYes()
    }

    static func readYes() -> Bool {
        guard let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
        return answer == "y" || answer == "yes"
    }
}

/// What `fetch` prints: one JSON object, or the body on stdout and a summary on stderr.
struct FetchReport {
    let url: String
    let json: Bool
    var exit: BuyerExit = .network
    var object: JSONObject = [:]
    var summary: [String] = []
    var body: [UInt8]?

    init(url: String, json: Bool) {
        self.url = url
        self.json = json
    }

    private mutating func start(_ status: String, httpStatus: Int?, paid: Bool) {
        object = [
            "status": .string(status), "url": .string(url), "httpStatus": httpStatus.map { .number(JSONNumber($0)) } ?? .null,
            "paid": .bool(paid), "payment": .null, "settlement": .null, "refusal": .null, "error": .null,
        ]
    }

    mutating func response(_ response: PayingClientResponse) {
        switch response.payment {
        case .notRequired:
            exit = response.status < 400 ? .free : .httpError
            start(exit == .free ? "free" : "http_error", httpStatus: response.status, paid: false)
            summary.append(exit == .free ? "no payment needed (HTTP \(response.status))" : "HTTP \(response.status), no payment requested")
            if exit == .httpError { object["error"] = .string("HTTP \(response.status)") }
        case .paid(let receipt):
            let price = PriceDescription(candidate: receipt.candidate)
            let settled = receipt.settlement?.success == true
            if receipt.settlement == nil && response.status >= 400 {
                // The server failed and sent no receipt; it still holds a live signature.
                exit = .httpError
                start("http_error", httpStatus: response.status, paid: false)
                object["error"] = .string("HTTP \(response.status); the server sent no settlement receipt")
                object["unconfirmed"] = .bool(true)
                summary.append(
                    "HTTP \(response.status): the server failed and sent no settlement receipt; the payment stays counted against your budget until its authorization expires unused"
                )
            } else {
                exit = .paid
                start("paid", httpStatus: response.status, paid: true)
                summary.append("paid \(price.human) on \(receipt.candidate.network.humanDescription)")
                summary.append("  recipient    \(peer(receipt.candidate.payTo))")
                if let s = receipt.settlement {
                    summary.append("  transaction  \(peer(s.transaction))")
                    if let payer = s.payer { summary.append("  payer        \(peer(payer))") }
                }
                if !settled { summary.append("  (the server sent no settlement receipt; the ledger keeps the payment pending)") }
                summary.append("  HTTP \(response.status)")
            }
            object["payment"] = .object(price.json)
            object["settlement"] = receipt.settlement.map { .object($0.summaryJSON) } ?? .null
        case .rejected(let rejection):
            exit = .rejected
            let price = PriceDescription(candidate: rejection.candidate)
            start("rejected", httpStatus: response.status, paid: false)
            object["payment"] = .object(price.json)
            object["settlement"] = rejection.settlement.map { .object($0.summaryJSON) } ?? .null
            object["error"] = .string(rejection.reason)
            summary.append(
                "payment of \(peer(price.human)) to \(peer(rejection.candidate.payTo)) on \(peer(rejection.candidate.network.humanDescription)) was rejected by the server: \(peer(rejection.reason)) (HTTP \(response.status))"
            )
            summary.append(
                "  the server holds the signature, so the payment stays counted against your budget until its authorization expires unused")
        case .signedIn(let signIn):
            // Served on the strength of an earlier payment: nothing paid or signed for payment.
            exit = .paid
            start("signed_in", httpStatus: response.status, paid: false)
            object["signIn"] = .object(["address": .string(signIn.address), "chainId": .string(signIn.chainID)])
            summary.append("signed in as \(peer(signIn.address)) on \(peer(signIn.chainID)) (sign-in-with-x); nothing paid")
            summary.append("  HTTP \(response.status)")
        case .pending(let pending):
            exit = .pending
            let price = PriceDescription(candidate: pending.candidate)
            start("pending", httpStatus: response.status, paid: false)
            object["payment"] = .object(price.json)
            object["settlement"] = .object(pending.settlement.summaryJSON)
            object["error"] = .string(pending.description)
            object["attempts"] = .number(JSONNumber(pending.attempts))
            summary.append(
                "\(peer(pending.description)): \(peer(price.human)) to \(peer(pending.candidate.payTo)); the server has not confirmed the settlement (sent \(pending.attempts) times, one signature). Do not pay again; check the transaction."
            )
        }
        bodyMembers(response.body, into: &object)
        body = response.body
    }

    mutating func refused(_ refusal: PaymentRefusal, interactive: Bool) {
        exit = .refused
        start("refused", httpStatus: 402, paid: false)
        object["refusal"] = .object(refusal.json)
        var line = "refused by policy (\(refusal.rule)): \(peer(refusal.description)); nothing was signed or paid"
        if case .approvalDenied = refusal, !interactive { line += " (pass --yes to approve)" }
        if case .crossOriginPaymentRequest = refusal, !interactive { line += " (pass --allow-cross-origin-payment to pay it)" }
        summary.append(line)
    }

    mutating func failed(_ exit: BuyerExit, _ message: String) {
        self.exit = exit
        start(exit == .network ? "network_error" : "http_error", httpStatus: nil, paid: false)
        object["error"] = .string(message)
        summary.append(message)
    }

    func emit() {
        if json {
            var o = object
            o["exitCode"] = .number(JSONNumber(Int(exit.rawValue)))
            BuyerOutput.printJSON(o)
            if exit != .paid && exit != .free { for line in summary { BuyerOutput.warn(peer(line)) } }
        } else {
            for line in summary { BuyerOutput.warn(peer(line)) }
            if let body { BuyerOutput.write(body) }
        }
    }
}
