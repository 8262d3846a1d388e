import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import X402
import X402EVM
import X402HTTP
import X402Solana

/// `x402 quote URL`: what a resource costs, without paying.
struct QuoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quote",
        abstract: "Show what a URL costs and whether your limits would pay it, without paying.",
        discussion: """
            Sends the request once (without payment) and prices every option in the 402 answer, best \
            first, with your spending policy's verdict. Nothing is signed. A key is optional (it only \
            adds the wallet's spending so far).

            With --discovered, URL is a resource listed by `x402 discover` (for a dynamic route, its \
            template such as https://api.example/users/:id): its entry is read from the facilitator's \
            catalog (--facilitator) and the request is built from the entry's example input (method, \
            path and query parameters, body).

            Exit codes: 0 payable; 2 free (no payment asked); 3 no option your policy allows; \
            5 network error; 6 HTTP error or unreadable 402; 64 usage error.
            """)

    @OptionGroup var request: RequestOptions
    @OptionGroup var keys: KeyOptions
    @OptionGroup var svmKeys: SolanaKeyOptions
    @OptionGroup var store: StoreOptions

    @Flag(name: .long, help: "Print one JSON object on stdout.")
    var json = false

    @Flag(name: .long, help: "URL is a resource from `x402 discover`: build the request from its catalog entry.")
    var discovered = false

    @Option(name: .long, help: "The facilitator whose catalog lists the resource (with --discovered; default $X402_FACILITATOR_URL).")
    var facilitator: String?

    func run() async throws {
        // Quoting signs nothing; without the user's key a throwaway key only enables the scheme.
        let key: PrivateKey
        let haveKey: Bool
        do {
            key = try keys.load()
            haveKey = true
        } catch {
            if keys.isExplicit { throw error }
            key = PrivateKey.random()
            haveKey = false
        }
        // The same for Solana offers: the user's keypair when there is one, else a throwaway one.
        let userSolanaKey = try svmKeys.load()
        let solanaKey = try userSolanaKey ?? SolanaKeypair(seed: (0..<32).map { _ in UInt8.random(in: .min ... .max) })
        let svmKeys = self.svmKeys
        let session = try BuyerSession(
            key: key, solanaKey: solanaKey, solanaRPC: { svmKeys.rpcURL(for: $0) }, store: store,
            wallet: haveKey ? nil : userSolanaKey?.publicKey.base58)
        let probe: PriceProbe
        let outgoing = try await discovered ? catalogRequest() : request.request()
        do {
            let payer = session.payer
            let request = self.request
            probe = try await withCLIHTTPClient(timeout: request.timeout) { http in
                try await PayingHTTPClient(httpClient: http, payer: payer, timeout: .seconds(Int64(request.timeout))).quote(outgoing)
            }
        } catch let error as BuyerError {
            throw error
        } catch {
            let (exit, message) = RequestFailure.classify(error)
            if json {
                BuyerOutput.printJSON([
                    "status": .string(exit == .network ? "network_error" : "http_error"), "url": .string(request.url),
                    "error": .string(message), "exitCode": .number(JSONNumber(Int(exit.rawValue))),
                ])
            }
            BuyerOutput.warn(message)
            throw exit.code
        }

        switch probe {
        case .free(let response):
            let exit: BuyerExit = response.status < 400 ? .free : .httpError
            if json {
                BuyerOutput.printJSON([
                    "status": .string(exit == .free ? "free" : "http_error"), "url": .string(request.url),
                    "httpStatus": .number(JSONNumber(response.status)), "options": .array([]),
                    "exitCode": .number(JSONNumber(Int(exit.rawValue))),
                ])
            } else {
                print("\(peer(request.url)) asks for no payment (HTTP \(response.status))")
            }
            throw exit.code
        case .paymentRequired(let quote):
            let haveKey = haveKey || userSolanaKey != nil
            let spent = haveKey ? try? await session.payer.spentInWindow() : nil
            let exit: BuyerExit = quote.chosen == nil ? .refused : .paid
            if json {
                printJSON(quote, spent: spent, wallet: haveKey ? session.payer.wallet : nil, exit: exit)
            } else {
                printHuman(quote, policy: session.payer.policy, spent: spent)
            }
            if exit != .paid { throw exit.code }
        }
    }

    /// The request described by the catalog entry of `request.url` (`--discovered`).
    func catalogRequest() async throws -> HTTPClientRequest {
        let catalog = try CatalogClient(facilitator: facilitator, timeout: request.timeout)
        let entry: DiscoveryResource?
        do {
            entry = try await catalog.entry(for: request.url)
        } catch let failure as CatalogClient.Failure {
            BuyerOutput.warn(peer(failure.message))
            throw failure.exit.code
        }
        guard let entry else { throw BuyerError("\(peer(request.url)) is not in the catalog of \(peer(catalog.base))") }
        let built = try CatalogRequest.build(entry)
        var headers = request.headers
        if let contentType = built.contentType, !headers.contains(where: { $0.lowercased().hasPrefix("content-type:") }) {
            headers.append("Content-Type: \(contentType)")
        }
        // The body is set as bytes, never passed as --data (whose `@path` would read a local file).
        var outgoing = try RequestOptions.request(url: built.url, method: built.method, headers: headers, data: nil)
        if let body = built.body { outgoing.body = .bytes(ByteBuffer(bytes: Array(body.utf8))) }
        return outgoing
    }

    func verdict(_ option: PaymentQuote.Option, policy: SpendingPolicy) -> String {
        if let refusal = option.refusal { return "refused (\(refusal.rule)): \(refusal.description)" }
        if let threshold = policy.approvalThreshold, let price = option.price, price > threshold {
            return "needs approval (above the threshold of \(threshold)): pass --yes to fetch"
        }
        return "within your limits"
    }

    func printHuman(_ quote: PaymentQuote, policy: SpendingPolicy, spent: DollarAmount?) {
        if quote.options.isEmpty {
            print("\(peer(request.url)) asks for payment, but no offered option is supported:")
            for offer in quote.paymentRequired.accepts { print("  \(peer(offer.scheme)) on \(peer(KnownNetwork.describe(offer.networkIdentifier)))") }
            return
        }
        for (i, option) in quote.options.enumerated() {
            let price = PriceDescription(candidate: option.candidate)
            print(i == 0 ? "\(peer(request.url)) costs \(peer(price.human))" : "or \(peer(price.human))")
            print("  network    \(peer(option.network.humanDescription))")
            print("  recipient  \(peer(option.payTo))")
            print("  asset      \(peer(option.asset))")
            print("  scheme     \(peer(option.candidate.scheme)) (x402 v\(option.candidate.version.rawValue))")
            print("  policy     \(peer(verdict(option, policy: policy)))")
        }
        if let description = quote.paymentRequired.resource?.description, !description.isEmpty { print("description: \(peer(description))") }
        if let resource = quote.paymentRequired.resource?.url, !resource.isEmpty { print("resource:    \(peer(resource))") }
        if let spent, let budget = policy.budget { print("spent in the last 24 hours: \(spent) of \(budget.limit)") }
        if let other = quote.crossOriginURL {
            print(
                "note: the payment request came from \(peer(other)), another origin, after a redirect; fetch pays it only with --allow-cross-origin-payment"
            )
        }
    }

    func printJSON(_ quote: PaymentQuote, spent: DollarAmount?, wallet: String?, exit: BuyerExit) {
        let options: [JSONValue] = quote.options.map { option in
            var o = PriceDescription(candidate: option.candidate).json
            o["refusal"] = option.refusal.map { .object($0.json) } ?? .null
            return .object(o)
        }
        BuyerOutput.printJSON([
            "status": .string("payment_required"), "url": .string(request.url), "httpStatus": .number(JSONNumber(402)),
            "options": .array(options), "payable": .bool(quote.chosen != nil),
            "wallet": wallet.map(JSONValue.string) ?? .null, "spent24h": spent.map { .string($0.decimalString) } ?? .null,
            "crossOriginUrl": quote.crossOriginURL.map(JSONValue.string) ?? .null,
            "exitCode": .number(JSONNumber(Int(exit.rawValue))),
        ])
    }
}
