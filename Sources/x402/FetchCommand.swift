import ArgumentParser
import Foundation
import NIOCore
import X402
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

            \(BuyerExit.help)
            """)

    @OptionGroup var request: RequestOptions
    @OptionGroup var keys: KeyOptions
    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: ArgumentHelp("Refuse to pay more than this for this request (dollars, e.g. 0.05).", valueName: "amount"))
    var max: String?

    @Flag(name: [.customShort("y"), .long], help: "Approve payments above the approval threshold (the cap and budget still apply).")
    var yes = false

    @Flag(name: .long, help: "Print one JSON object on stdout (stable keys, for scripts and agents).")
    var json = false

    func validate() throws {
        if let max {
            do { _ = try DollarAmount(max) } catch { throw ValidationError("--max: \(max) is not a dollar amount") }
        }
    }

    func run() async throws {
        let key = try keys.load()
        let yes = self.yes
        let session = try BuyerSession(key: key, store: store, max: try max.map { try DollarAmount($0) }) { request in
            if yes { return true }
            guard BuyerOutput.isInteractive else { return false }
            return Self.ask(request)
        }
        let payer = session.payer
        let request = self.request
        let report = try await withCLIHTTPClient(timeout: request.timeout) { http in
            let client = PayingHTTPClient(httpClient: http, payer: payer, timeout: .seconds(Int64(request.timeout)))
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

    /// Asks on the terminal; anything but y/yes declines.
    static func ask(_ request: PaymentApprovalRequest) -> Bool {
        let price = PriceDescription(candidate: request.candidate)
        BuyerOutput.warn(
            "Pay \(price.human) to \(request.candidate.payTo) on \(NetworkNames.describe(request.candidate.network.identifier))"
                + " for \(request.resource ?? "this resource")? It is above your approval threshold of \(request.threshold). [y/N]")
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
                // The server's handler failed; it did not settle, so nothing was charged.
                exit = .httpError
                start("http_error", httpStatus: response.status, paid: false)
                object["error"] = .string("HTTP \(response.status); the server did not settle the payment")
                summary.append("HTTP \(response.status): the server failed and did not settle; nothing was charged")
            } else {
                exit = .paid
                start("paid", httpStatus: response.status, paid: true)
                summary.append("paid \(price.human) on \(NetworkNames.describe(receipt.candidate.network.identifier))")
                summary.append("  recipient    \(receipt.candidate.payTo)")
                if let s = receipt.settlement {
                    summary.append("  transaction  \(s.transaction)")
                    if let payer = s.payer { summary.append("  payer        \(payer)") }
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
                "payment of \(price.human) to \(rejection.candidate.payTo) on \(NetworkNames.describe(rejection.candidate.network.identifier)) was rejected by the server: \(rejection.reason) (HTTP \(response.status))"
            )
        }
        bodyMembers(response.body, into: &object)
        body = response.body
    }

    mutating func refused(_ refusal: PaymentRefusal, interactive: Bool) {
        exit = .refused
        start("refused", httpStatus: 402, paid: false)
        object["refusal"] = .object(refusal.json)
        var line = "refused by policy (\(refusal.rule)): \(refusal.description); nothing was signed or paid"
        if case .approvalDenied = refusal, !interactive { line += " (pass --yes to approve)" }
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
            if exit != .paid && exit != .free { summary.forEach(BuyerOutput.warn) }
        } else {
            summary.forEach(BuyerOutput.warn)
            if let body { BuyerOutput.write(body) }
        }
    }
}
