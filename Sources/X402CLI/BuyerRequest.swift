import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import X402
import X402EVM
import X402EVMRPC
import X402HTTP
import X402SQLite
import X402Solana
import X402SolanaRPC

/// The HTTP request to send (curl-like flags), shared by `quote` and `fetch`.
struct RequestOptions: ParsableArguments {
    @Argument(help: "The http(s) URL of the resource.")
    var url: String

    @Option(name: [.customShort("X"), .customLong("request")], help: "The HTTP method (default GET, or POST with -d).")
    var method: String?

    @Option(name: [.customShort("H"), .customLong("header")], help: ArgumentHelp("A request header (repeatable).", valueName: "name: value"))
    var headers: [String] = []

    @Option(name: [.customShort("d"), .customLong("data")], help: ArgumentHelp("The request body; @path reads a file.", valueName: "body"))
    var data: String?

    @Option(name: .long, help: "Seconds to wait for each response (default 60).")
    var timeout: Int = 60

    func validate() throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
            components.host?.isEmpty == false
        else { throw ValidationError("not an http(s) URL: \(url)") }
        for header in headers where !header.contains(":") {
            throw ValidationError("a header must look like 'Name: value', got \(header)")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    /// The request (its body is replayable bytes, so it can be sent again with the payment).
    func request() throws -> HTTPClientRequest {
        try Self.request(url: url, method: method, headers: headers, data: data)
    }

    /// The request for `url` (headers already validated as `Name: value`).
    static func request(url: String, method: String?, headers: [String], data: String?) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: (method ?? (data == nil ? "GET" : "POST")).uppercased())
        for header in headers {
            guard let colon = header.firstIndex(of: ":") else { throw BuyerError("a header must look like 'Name: value'") }
            let name = header[..<colon].trimmingCharacters(in: .whitespaces)
            let value = header[header.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            request.headers.add(name: name, value: value)
        }
        if let data {
            let bytes: [UInt8]
            if data.hasPrefix("@") {
                let path = String(data.dropFirst())
                guard let contents = FileManager.default.contents(atPath: path) else { throw BuyerError("cannot read the body file \(path)") }
                bytes = Array(contents)
            } else {
                bytes = Array(data.utf8)
            }
            request.body = .bytes(ByteBuffer(bytes: bytes))
            if !request.headers.contains(name: "Content-Type") {
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            }
        }
        return request
    }
}

/// The wallet, policy and ledger a paying command works with.
struct BuyerSession {
    let key: PrivateKey?
    let solanaKey: SolanaKeypair?
    let limits: LimitsFile
    let ledger: SQLiteSpendLedger
    let payer: Payer

    /// The wallet identity of budgets and the ledger: the EVM address, else the Solana address.
    static func wallet(key: PrivateKey?, solanaKey: SolanaKeypair?) -> String? {
        key?.address.checksummed ?? solanaKey?.publicKey.base58
    }

    /// Opens the ledger and the policy; `max` lowers the per-payment cap for this run. EVM offers are
    /// paid with `key`, Solana offers with `solanaKey` through the node `solanaRPC` gives per network.
    init(
        key: PrivateKey?, solanaKey: SolanaKeypair? = nil, solanaRPC: (@Sendable (Network) -> String?)? = nil, store: StoreOptions,
        max: DollarAmount? = nil, approval: PaymentApprovalHandler? = nil, wallet: String? = nil
    ) throws {
        guard let wallet = wallet ?? Self.wallet(key: key, solanaKey: solanaKey) else {
            throw BuyerError(
                "no wallet key: pass --key-file PATH or --key-env NAME (EVM), --svm-key-file PATH or --svm-key-env NAME (Solana), or create one with `x402 wallet new`"
            )
        }
        self.key = key
        self.solanaKey = solanaKey
        limits = try LimitsFile.load(path: store.policyPath)
        var policy = try limits.policy()
        if let max { policy.perPaymentCap = policy.perPaymentCap.map { Swift.min($0, max) } ?? max }
        do {
            ledger = try SQLiteSpendLedger(path: store.ledgerPath)
        } catch {
            throw BuyerError("cannot open the spend ledger \(store.ledgerPath): \(error)")
        }
        var schemes = SchemeRegistry<any SchemeClient>()
        if let key { schemes.registerExactEVM(ExactEVMClient(signer: key, maxValiditySeconds: limits.validityCapSeconds)) }
        if let solanaKey {
            let urls = solanaRPC ?? { $0.publicRPCURL }
            schemes.registerExactSVM(
                ExactSVMClient(signer: solanaKey, rpcs: { network in urls(network).map { SolanaJSONRPCClient(url: $0) } }))
        }
        payer = Payer(schemes: schemes, wallet: wallet, policy: policy, ledger: ledger, approval: approval)
    }

    /// The approval queue in the ledger file; `notifier` is told about purchases awaiting approval.
    func approvals(store: StoreOptions, keys: KeyOptions?, notifier: PurchaseNotifier) throws -> PurchaseApprovals {
        try OwnerQueue.open(store: store, payer: payer, lifetime: limits.approvalLifetime, keys: keys, notifier: notifier)
    }
}

/// Opening the approval queue (with or without a wallet key).
enum OwnerQueue {
    static func open(
        store: StoreOptions, payer: Payer, lifetime: Duration, keys: KeyOptions?, notifier: PurchaseNotifier
    ) throws
        -> PurchaseApprovals
    {
        let queue: SQLitePurchaseApprovalStore
        do {
            queue = try SQLitePurchaseApprovalStore(path: store.ledgerPath)
        } catch {
            throw BuyerError("cannot open the approval queue in \(store.ledgerPath): \(error)")
        }
        var approvals = PurchaseApprovals(payer: payer, store: queue, lifetime: lifetime)
        if !notifier.isEmpty {
            let flags = PurchaseView.flags(store: store, keys: keys)
            approvals.notify = { purchase in await notifier.notify(PurchaseView(purchase, commandFlags: flags).json) }
        }
        return approvals
    }

    /// The queue for the owner's commands, which need no key: a payer that can sign nothing (with
    /// the spend ledger when the command reads it).
    static func ownerSide(store: StoreOptions, ledger: (any SpendLedger)? = nil) throws -> PurchaseApprovals {
        let limits = try LimitsFile.load(path: store.policyPath)
        var payer = Payer(schemes: SchemeRegistry<any SchemeClient>(), wallet: "", policy: try limits.policy())
        if let ledger { payer.ledger = ledger }
        return try open(store: store, payer: payer, lifetime: limits.approvalLifetime, keys: nil, notifier: PurchaseNotifier(hiddenVariables: []))
    }
}

/// Releases or confirms the ledger's expired open payments by reading their authorizations on
/// chain (`authorizationState`), before the budget is used or shown.
///
/// The node per network is `$X402_RPC_URL` (checked against the network's chain id before it is
/// trusted), else the network's public endpoint (as `wallet balance`). Nothing is read unless an
/// open payment's validity window has passed; when the chain cannot be read the payment simply
/// keeps counting.
enum LedgerReconciliation {
    static func run(ledger: SQLiteSpendLedger, quiet: Bool) async {
        let reconciler = SpendReconciler(ledger: ledger, reader: EVMAuthorizationStateReader(clients: [:]))
        let graceSeconds = TimeInterval(reconciler.grace.components.seconds)
        guard let expired = try? await ledger.expiredOpenAttempts(expiredBy: Date().addingTimeInterval(-graceSeconds), limit: reconciler.batchLimit),
            !expired.isEmpty
        else { return }
        let environment = ProcessInfo.processInfo.environment["X402_RPC_URL"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            // A refused connection is reported at once (no retries until the deadline).
            let summary = try await withCLIHTTPClient(timeout: 10) { http in
                var clients: [String: any EthereumClient] = [:]
                for network in Set(expired.map(\.network)) {
                    guard let url = environment ?? Network(network)?.publicRPCURL else { continue }
                    clients[network] = JSONRPCClient(configuration: .init(url: url, timeout: .seconds(10), maxRetries: 0), httpClient: http)
                }
                var withNodes = reconciler
                withNodes.reader = EVMAuthorizationStateReader(clients: clients)
                return try await withNodes.reconcile(now: Date())
            }
            if !quiet, let error = summary.firstError {
                BuyerOutput.warn(
                    "note: \(summary.unreadable.count) expired unconfirmed payment(s) could not be checked on chain (\(peer(error))); they keep counting against the budget"
                )
            }
        } catch {
            if !quiet { BuyerOutput.warn("note: the ledger could not be reconciled: \(error)") }
        }
    }
}

/// Classifies transport and protocol failures into exit codes.
enum RequestFailure {
    static func classify(_ error: any Error) -> (BuyerExit, String) {
        switch error {
        case let e as PayingClientError:
            switch e.code {
            case .transport: return (.network, peer(e.description))
            default: return (.httpError, peer(e.description))
            }
        case let e as HTTPClientError: return (.network, peer("request failed: \(e)"))
        default: return (.network, peer("request failed: \(error)"))
        }
    }
}

/// The response body for JSON output: text when it is UTF-8, base64 otherwise.
func bodyMembers(_ body: [UInt8], into object: inout JSONObject) {
    if let text = String(validating: body, as: UTF8.self) {
        object["body"] = .string(text)
    } else {
        object["bodyBase64"] = .string(Data(body).base64EncodedString())
    }
}

/// Runs `body` with an HTTP client that reports a refused connection at once (the shared client
/// retries connection establishment until the request deadline), then shuts it down.
func withCLIHTTPClient<T>(timeout seconds: Int, _ body: (HTTPClient) async throws -> T) async throws -> T {
    var configuration = HTTPClient.Configuration()
    // Redirects are followed by the paying flow (payment headers stay on the paying origin).
    configuration.redirectConfiguration = .disallow
    configuration.connectionPool.retryConnectionEstablishment = false
    configuration.timeout.connect = .seconds(Int64(Swift.min(seconds, 15)))
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    do {
        let result = try await body(client)
        try? await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}
