import ArgumentParser
import Foundation
import NIOCore
import X402
import X402EVM
import X402HTTP
import X402Solana

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

            With --probe nothing is signed: the price is recorded as a pending purchase with a fetch_id \
            (status pre_approved, or awaiting_approval when it needs the owner's approval) and the exact \
            next command is printed; `x402 fetch confirm ID` pays it later. A price that needs approval \
            (above the approval threshold, or a recipient the firewall does not allow) is queued the same \
            way without --probe unless --yes or a terminal answer approves it; the owner is notified \
            (--notify-command, or notifyCommand/notifyWebhook in the limits file) and decides with \
            `x402 approvals approve|deny ID`.

            \(BuyerExit.help)
            """)

    @OptionGroup var request: RequestOptions
    @OptionGroup var keys: KeyOptions
    @OptionGroup var svmKeys: SolanaKeyOptions
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

    @Flag(name: .long, help: "Sign nothing: record the price as a pending purchase (fetch_id) to confirm later.")
    var probe = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Pin the seller's offer-receipt signer: a did:key (JWS) or 0x address (EIP-712); repeatable. Signed offers from another signer are refused.",
            valueName: "did:key|0x…"))
    var sellerKey: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Run this shell command for a purchase that starts awaiting approval, with the purchase as JSON on stdin (overrides notifyCommand in the limits file).",
            valueName: "command"))
    var notifyCommand: String?

    func validate() throws {
        if let max {
            do { _ = try DollarAmount(max) } catch { throw ValidationError("--max: \(max) is not a dollar amount") }
        }
        guard (0...600).contains(pendingWait) else { throw ValidationError("--pending-wait must be between 0 and 600 seconds") }
        _ = try ReceiptTrustOptions.trust(sellerKeys: sellerKey)
    }

    func run() async throws {
        let solanaKey = try svmKeys.load()
        // Without a Solana keypair the EVM key is required (its absence is then the error to report).
        let key = solanaKey == nil || keys.isExplicit ? try keys.load() : try? keys.load()
        let yes = self.yes
        let svmKeys = self.svmKeys
        let ownerApproval: PaymentApprovalHandler = { request in
            if yes { return true }
            guard BuyerOutput.isInteractive else { return false }
            return Self.ask(request)
        }
        let session = try BuyerSession(
            key: key, solanaKey: solanaKey, solanaRPC: { svmKeys.rpcURL(for: $0) }, store: store, max: try max.map { try DollarAmount($0) },
            approval: ownerApproval)
        await LedgerReconciliation.run(ledger: session.ledger, quiet: json)
        let payer = session.payer
        let request = self.request
        let allowCrossOrigin = allowCrossOriginPayment
        let notifier = PurchaseNotifier(
            command: notifyCommand ?? session.limits.notifyCommand, webhook: session.limits.notifyWebhook, hiddenVariables: keys.secretVariables)
        let approvals = try session.approvals(store: store, keys: keys, notifier: notifier)
        let method = (request.method ?? (request.data == nil ? "GET" : "POST")).uppercased()
        let probe = self.probe
        var options = PayingClientOptions(
            crossOriginPayment: { crossOrigin in
                if allowCrossOrigin { return true }
                guard BuyerOutput.isInteractive else { return false }
                return Self.ask(crossOrigin)
            },
            pendingSettlement: PendingSettlementPolicy(maxWait: .seconds(pendingWait), initialDelay: .seconds(2), maxDelay: .seconds(15)))
        // Signed offers are checked before paying and receipts stored in the ledger (offer-receipt).
        options.offerReceipts = OfferReceiptClientPolicy(
            verifier: ReceiptTrustOptions.verifier(trust: try ReceiptTrustOptions.trust(sellerKeys: sellerKey)),
            additionalPayers: [key?.address.checksummed, solanaKey?.publicKey.base58].compactMap { $0 })
        // Sign-in-with-x proves the account that paid: the EVM key or the Solana keypair (SIWS,
        // Ed25519), whichever the settled payment's receipt names.
        var signers: [any SignInSigner] = []
        if let key { signers.append(EVMSignInSigner(key: key)) }
        if let solanaKey { signers.append(SolanaSignInSigner(keypair: solanaKey)) }
        options.signIn = signers.first
        options.moreSignIn = Array(signers.dropFirst())
        options.paymentGate = { required, url in
            // The owner is asked only when at hand (a terminal, or --yes); otherwise the purchase is queued.
            let owner = !probe && (yes || BuyerOutput.isInteractive) ? ownerApproval : nil
            switch try await approvals.assess(required, url: url, method: method, probe: probe, ownerApproval: owner) {
            case .payNow(_, let terms): return terms
            case .queued(let purchase): throw PurchaseQueued(purchase)
            }
        }
        let storeOptions = self.store
        let keyOptions = self.keys
        let report = try await withCLIHTTPClient(timeout: request.timeout) { http in
            let client = PayingHTTPClient(httpClient: http, payer: payer, timeout: .seconds(Int64(request.timeout)), options: options)
            var report = FetchReport(url: request.url, json: json)
            do {
                let response = try await client.execute(try request.request())
                if case .paid(let paid) = response.payment, let receipt = paid.offerReceipt, !receipt.isGood {
                    BuyerOutput.warn("warning: the seller's signed receipt did not check out: \(peer(receipt.description))")
                }
                report.response(response)
            } catch let queued as PurchaseQueued {
                report.queued(PurchaseView(queued.purchase, store: storeOptions, keys: keyOptions))
            } catch let refusal as PaymentRefusal {
                report.refused(refusal, interactive: BuyerOutput.isInteractive)
            } catch let refusal as OfferReceiptRefusal {
                report.refusedOffer(refusal)
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

    /// `x402 fetch confirm ID`: pays a pre-approved or owner-approved purchase, once.
    struct Confirm: AsyncParsableCommand {
        /// Reached as `x402 fetch confirm ID` (see ``X402Command/routed(_:)``).
        static let configuration = CommandConfiguration(
            commandName: "fetch-confirm",
            abstract: "Pay a probed (pre_approved) or owner-approved purchase by its fetch_id, once.",
            usage: "x402 fetch confirm <fetch-id> [<options>]",
            discussion: """
                Re-reads the 402 from the purchase's URL and pays only if the offer is still within the \
                approved terms: the same recipient, asset, network and scheme, at most the approved price \
                (else it is refused and marked failed; probe again). The cap, the budget and the per-host \
                limits still apply. A purchase is paid at most once: confirming it again pays nothing and \
                says so. The original request's method is reused; pass -H/-d again for headers or a body.

                \(BuyerExit.help)
                """,
            shouldDisplay: false)

        @Argument(help: "The fetch_id printed by `x402 fetch --probe`.")
        var fetchID: String

        @Option(name: [.customShort("H"), .customLong("header")], help: ArgumentHelp("A request header (repeatable).", valueName: "name: value"))
        var headers: [String] = []

        @Option(name: [.customShort("d"), .customLong("data")], help: ArgumentHelp("The request body; @path reads a file.", valueName: "body"))
        var data: String?

        @Option(name: .long, help: "Seconds to wait for each response (default 60).")
        var timeout: Int = 60

        @Option(
            name: .long,
            help: ArgumentHelp(
                "While the settlement is reported pending, re-send the same payment for up to this many seconds (default 60).", valueName: "seconds"))
        var pendingWait: Int = 60

        @OptionGroup var keys: KeyOptions
        @OptionGroup var svmKeys: SolanaKeyOptions
        @OptionGroup var store: StoreOptions

        @Flag(name: .long, help: "Print one JSON object on stdout.")
        var json = false

        func validate() throws {
            guard PurchaseApprovals.isValidID(fetchID) else { throw ValidationError("not a fetch_id: \(peer(String(fetchID.prefix(80))))") }
            guard (0...600).contains(pendingWait) else { throw ValidationError("--pending-wait must be between 0 and 600 seconds") }
            guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
            for header in headers where !header.contains(":") {
                throw ValidationError("a header must look like 'Name: value', got \(header)")
            }
            // The purchase's URL names what was approved; a Host header would ask its server for another site.
            for header in headers where header.prefix(while: { $0 != ":" }).trimmingCharacters(in: .whitespaces).lowercased() == "host" {
                throw ValidationError("-H Host: is not allowed; confirm requests the purchase's URL as recorded")
            }
        }

        func run() async throws {
            let solanaKey = try svmKeys.load()
            let key = solanaKey == nil || keys.isExplicit ? try keys.load() : try? keys.load()
            let svmKeys = self.svmKeys
            let session = try BuyerSession(key: key, solanaKey: solanaKey, solanaRPC: { svmKeys.rpcURL(for: $0) }, store: store)
            await LedgerReconciliation.run(ledger: session.ledger, quiet: json)
            let approvals = try session.approvals(store: store, keys: keys, notifier: PurchaseNotifier(hiddenVariables: keys.secretVariables))
            let purchase: PendingPurchase
            let report: FetchReport
            do {
                let current = try await approvals.purchase(fetchID)
                guard current.wallet == session.payer.wallet else {
                    throw BuyerError("purchase \(fetchID) belongs to wallet \(current.wallet), not \(session.payer.wallet)")
                }
                (purchase, report) = try await approvals.confirm(fetchID) { claimed in
                    var options = PayingClientOptions(
                        pendingSettlement: PendingSettlementPolicy(maxWait: .seconds(pendingWait), initialDelay: .seconds(2), maxDelay: .seconds(15)))
                    options.paymentGate = { required, url in try approvals.paymentTerms(for: claimed, answer: required, from: url) }
                    // Which payment this confirmation sends, recorded before it is sent (`approvals recover`).
                    options.paymentSigned = { prepared in try await approvals.attachPayment(claimed.fetchID, record: prepared.recordID) }
                    return try await withCLIHTTPClient(timeout: timeout) { http in
                        let client = PayingHTTPClient(
                            httpClient: http, payer: session.payer, timeout: .seconds(Int64(timeout)), options: options)
                        var report = FetchReport(url: claimed.url, json: json)
                        do {
                            report.response(
                                try await client.execute(
                                    try RequestOptions.request(url: claimed.url, method: claimed.method, headers: headers, data: data)))
                        } catch let refusal as PaymentRefusal {
                            report.refused(refusal, interactive: false)
                        } catch {
                            let (exit, message) = RequestFailure.classify(error)
                            report.failed(exit, message)
                        }
                        let settlement: PurchaseSettlement =
                            switch report.exit {
                            case .paid: .paid(transaction: report.transaction)
                            case .free: .failed(reason: "served without payment (nothing paid)")
                            // Signed and sent: the purchase is closed (never paid again), and its note says
                            // the money may still move.
                            case .pending:
                                .failed(
                                    reason:
                                        "payment sent, settlement still pending\(report.transaction.map { " (transaction \($0))" } ?? ""): do not pay again"
                                )
                            default: .failed(reason: report.failureReason)
                            }
                        return (report, settlement)
                    }
                }
            } catch let error as PurchaseApprovalError {
                let current = try? await approvals.purchase(fetchID)
                if json {
                    var o: JSONObject = ["fetch_id": .string(fetchID), "status": current.map { .string($0.status.rawValue) } ?? .null]
                    o["error"] = .string(error.description)
                    o["paid"] = .bool(false)
                    o["exitCode"] = .number(JSONNumber(Int(BuyerExit.notConfirmable.rawValue)))
                    BuyerOutput.printJSON(o)
                }
                BuyerOutput.warn(peer(error.description))
                throw BuyerExit.notConfirmable.code
            }
            var final = report
            final.attach(PurchaseView(purchase, store: store, keys: keys))
            final.emit()
            if final.exit != .paid { throw final.exit.code }
        }
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
                + " for \(peer(request.resource ?? "this resource"))? \(Self.why(request)) [y/N]")
        return readYes()
    }

    /// Why the owner is asked (the recipient and host in it are escaped).
    static func why(_ request: PaymentApprovalRequest) -> String {
        guard !request.reasons.isEmpty else { return "It is above your approval threshold of \(request.threshold)." }
        return request.reasons.map { reason in
            switch reason {
            case .aboveThreshold(_, let threshold): "It is above your approval threshold of \(threshold)."
            case .recipientNotAllowed(_, let host):
                "The recipient\(host.map { " (\(peer($0)))" } ?? "") is not on your firewall's allow list."
            }
        }.joined(separator: " ")
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
    var queuedPurchase: PurchaseView?

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

    /// Recorded as a pending purchase instead of paid (a probe, or a price that needs approval).
    mutating func queued(_ view: PurchaseView) {
        exit = view.purchase.status == .awaitingApproval ? .awaitingApproval : .paid
        queuedPurchase = view
        object = view.json
        object["paid"] = .bool(false)
        summary = view.lines
    }

    /// Adds the confirmed purchase to the report.
    mutating func attach(_ view: PurchaseView) {
        object["fetch_id"] = .string(view.purchase.fetchID)
        object["purchase"] = .object(view.json)
        summary.append("purchase \(view.purchase.fetchID): \(view.purchase.status.rawValue)")
    }

    /// The settlement transaction of a paid call.
    var transaction: String? { object["settlement"]?["transaction"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }

    /// Why a confirmation did not end paid.
    var failureReason: String {
        if let message = object["refusal"]?["message"]?.stringValue { return "refused: \(message)" }
        if let error = object["error"]?.stringValue { return error }
        return object["status"]?.stringValue ?? "failed"
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

    /// The seller's signed offers did not check out (offer-receipt): nothing was signed.
    mutating func refusedOffer(_ refusal: OfferReceiptRefusal) {
        exit = .refused
        start("refused", httpStatus: 402, paid: false)
        object["refusal"] = .object(["rule": "offerReceipt", "message": .string(refusal.description)])
        summary.append("refused (offerReceipt): \(peer(refusal.description)); nothing was signed or paid")
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
            if exit != .paid && exit != .free && queuedPurchase == nil { for line in summary { BuyerOutput.warn(peer(line)) } }
        } else if queuedPurchase != nil {
            // Already escaped line by line; no body (nothing was paid or fetched).
            for line in summary { print(line) }
        } else {
            for line in summary { BuyerOutput.warn(peer(line)) }
            if let body { BuyerOutput.write(body) }
        }
    }
}
