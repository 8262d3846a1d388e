import HTTPTypes
public import MCP
public import X402

/// A tool handler: the MCP `tools/call` parameters in, the tool's result out.
public typealias ToolHandler = @Sendable (CallTool.Parameters) async throws -> CallTool.Result

/// Charges for MCP tools: a wrapper for tool handlers over the transport-free resource server.
///
/// A paid tool declares its terms as a `PaidRoute` (price, recipient, network). A call without
/// `_meta["x402/payment"]` gets the payment-required tool error. A call with a payment is matched,
/// claimed in the payment-state store (a replay is refused on every instance sharing the store),
/// verified by the facilitator, then the tool runs; the payment is settled only when the tool
/// succeeded (`isError` not `true`), and the result carries the receipt in
/// `_meta["x402/payment-response"]`. A failing (or throwing) tool is never charged and its
/// payment may be presented again. If the settlement fails, the tool's output is withheld.
///
/// ```swift
/// let paid = try PaidTools(
///     tools: ["get_quote": .exact("$0.001", on: .baseSepolia, payTo: "0x…")],
///     facilitator: HTTPFacilitatorClient(baseURL: facilitatorURL), schemes: schemes)
/// let server = Server(name: "quotes", version: "1.0", capabilities: .init(tools: .init()))
/// await paid.register(on: server, tools: [quoteTool]) { params in
///     CallTool.Result(content: [.text(text: "ETH = 3120.55 USD", annotations: nil, _meta: nil)])
/// }
/// ```
///
/// Tools not listed are free: their calls go to the handler untouched. The wrapper knows nothing
/// of the MCP transport (stdio, streamable HTTP, in memory).
public struct PaidTools: Sendable {
    /// The payment lifecycle the tools are charged through.
    public let resourceServer: ResourceServer
    /// How long a paid tool may run once its payment is verified; `nil`: no limit. A tool still
    /// running then is cancelled, its payment released (never settled), and the call answered
    /// with a tool error.
    public let toolTimeLimit: Duration?
    private let paidNames: Set<String>

    /// Paid tools priced by `tools`.
    ///
    /// Each route's `resource` defaults to `mcp://tool/<name>`, its description to `Tool: <name>`
    /// and its MIME type to `application/json`; settlement always follows the tool (a route's
    /// `SettlementTiming/beforeHandler` is not used over MCP).
    ///
    /// - Parameters:
    ///   - tools: The price of each paid tool, by tool name.
    ///   - facilitator: Verifies and settles payments (`FacilitatorClient`: over HTTP, or in process).
    ///   - schemes: The scheme servers that price the tools.
    ///   - store: Where claims on payments are kept (in memory by default; share a SQLite or
    ///     PostgreSQL store between instances).
    ///   - hooks: Callbacks around verification and settlement (`ServerHooks/onFailure` is not
    ///     used: its answers are HTTP responses).
    ///   - acceptsV1: Accept v1 payments too (the answer stays v2).
    ///   - toolTimeLimit: How long a paid tool may run after its payment is verified (default 300 s;
    ///     `nil`: no limit). A payment is held for its tool only that long.
    /// - Throws: ``MCPPaymentError/invalidToolName(_:)`` for a name that is not an MCP tool name,
    ///   or the resource server's `RouteConfigurationError`.
    public init(
        tools: [String: PaidRoute], facilitator: any FacilitatorClient, schemes: SchemeRegistry<any SchemeServer>,
        store: any PaymentStateStore = InMemoryPaymentStateStore(), hooks: ServerHooks = ServerHooks(), acceptsV1: Bool = false,
        toolTimeLimit: Duration? = .seconds(300)
    ) throws {
        self.toolTimeLimit = toolTimeLimit
        var routes = RouteTable()
        for (name, route) in tools.sorted(by: { $0.key < $1.key }) {
            guard Self.isValidToolName(name) else { throw MCPPaymentError.invalidToolName(name) }
            var route = route
            route.resource = route.resource ?? MCPPayment.resourceURL(tool: name)
            if route.description.isEmpty { route.description = "Tool: \(name)" }
            if route.mimeType.isEmpty { route.mimeType = "application/json" }
            route.settlement = .afterHandler
            route.signIn = nil
            route.paywallHTML = nil
            routes.add("POST \(Self.path(of: name))", route)
        }
        resourceServer = try ResourceServer(
            configuration: ResourceServer.Configuration(
                routes: routes, facilitator: facilitator, schemes: schemes, store: store, hooks: hooks, acceptsV1: acceptsV1))
        paidNames = Set(tools.keys)
    }

    /// Whether `name` is a paid tool.
    public func isPaid(_ name: String) -> Bool { paidNames.contains(name) }

    /// Whether `name` is an MCP tool name: 1–128 characters of `A-Z a-z 0-9 _ - .`, and not `.`
    /// or `..`.
    public static func isValidToolName(_ name: String) -> Bool {
        (1...128).contains(name.utf8.count) && name != "." && name != ".."
            && name.utf8.allSatisfy {
                (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == UInt8(ascii: "_")
                    || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
            }
    }

    static func path(of name: String) -> String { "/tools/\(name)" }

    /// Answers a `tools/call`: free tools go straight to `handler`; paid tools are charged around it.
    ///
    /// - Parameters:
    ///   - parameters: The call.
    ///   - handler: The tool implementation (it never sees the payment-required path).
    /// - Returns: The tool's result (with the receipt in `_meta` when it was paid), or the
    ///   payment-required tool error.
    /// - Throws: What `handler` throws (the payment is then released, not settled).
    public func call(_ parameters: CallTool.Parameters, handler: @escaping ToolHandler) async throws -> CallTool.Result {
        let name = parameters.name
        guard paidNames.contains(name) else { return try await handler(parameters) }
        var headers = HTTPFields()
        switch MCPPayment.payment(in: parameters._meta) {
        case nil:
            break
        case .success(let payment):
            headers[payment.version == .v1 ? .xPayment : .paymentSignature] = payment.headerValue
        case .failure(let error):
            return await paymentRequired(for: name, error: "\(error)")
        }
        let request = ServerRequest(
            method: .post, path: Self.path(of: name), headers: headers, url: MCPPayment.resourceURL(tool: name))
        switch await resourceServer.evaluate(request) {
        case .free, .signedIn:
            return try await handler(parameters)
        case .answer(let answer):
            return result(for: answer)
        case .proceed(let pending):
            let result: CallTool.Result
            do {
                guard let outcome = try await Self.run(handler, parameters, within: toolTimeLimit) else {
                    await resourceServer.abandon(pending)
                    return Self.toolError("The tool did not finish in time; no payment was taken.")
                }
                result = outcome
            } catch {
                await resourceServer.abandon(pending)
                throw error
            }
            switch await resourceServer.conclude(pending, handlerSucceeded: result.isError != true) {
            case .settled(let settlement):
                var paid = result
                var meta = paid._meta ?? Metadata()
                meta.fields[MCPPayment.paymentResponseMetaKey] = try? Value(x402: settlement.json)
                paid._meta = meta
                return paid
            case .unsettled:
                return result
            case .answer(let answer):
                return self.result(for: answer)
            }
        }
    }

    /// Registers `tools/list` (with `tools`) and `tools/call` (through ``call(_:handler:)``) on an
    /// MCP server.
    ///
    /// - Parameters:
    ///   - server: The MCP server (declare the `tools` capability).
    ///   - tools: The tools it lists.
    ///   - handler: The tools' implementation.
    public func register(on server: Server, tools: [Tool], handler: @escaping ToolHandler) async {
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: tools) }
        await server.withMethodHandler(CallTool.self) { parameters in try await self.call(parameters, handler: handler) }
    }

    // MARK: - Answers

    /// The payment-required answer for a call whose payment could not be read.
    private func paymentRequired(for name: String, error: String) async -> CallTool.Result {
        let request = ServerRequest(method: .post, path: Self.path(of: name), url: MCPPayment.resourceURL(tool: name))
        guard case .answer(let answer) = await resourceServer.evaluate(request), var required = answer.offer?.required else {
            return Self.toolError("The price of this tool could not be determined.")
        }
        required.error = error
        return MCPPayment.paymentRequiredResult(required.json)
    }

    /// The tool result for an answer of the payment lifecycle.
    func result(for answer: PaymentAnswer) -> CallTool.Result {
        func required(_ error: String, adding extra: JSONObject = [:]) -> CallTool.Result {
            guard var required = answer.offer?.required else { return Self.toolError(error) }
            required.error = error
            guard !extra.isEmpty, case .object(var object) = required.json else { return MCPPayment.paymentRequiredResult(required.json) }
            for (key, value) in extra { object[key] = value }
            return MCPPayment.paymentRequiredResult(.object(object))
        }
        switch answer.reason {
        case .paymentRequired:
            return required(MCPPayment.paymentRequiredError)
        case .unreadablePayment(let why):
            return required("unreadable payment: \(why)")
        case .refusedPath, .preflight:
            return Self.toolError("This tool cannot be called.")
        case .hookResponse(_, let settlement):
            var result = required("Execution blocked by hook")
            if let settlement {
                var meta = Metadata()
                meta.fields[MCPPayment.paymentResponseMetaKey] = try? Value(x402: settlement.json)
                result._meta = meta
            }
            return result
        case .failed(let failure, _):
            switch failure {
            case .noMatchingRequirements:
                return required("No matching payment requirements found")
            case .replayed(let record):
                return required(record.phase == .settled ? ErrorReason.paymentAlreadyUsed.rawValue : ErrorReason.paymentInProgress.rawValue)
            case .verificationFailed(let verification):
                return required(verification.invalidReason?.rawValue ?? "Payment verification failed")
            case .settlementFailed(var settlement):
                if settlement.network.isEmpty, let network = answer.offer?.required.accepts.first?.network.identifier {
                    settlement.network = network
                }
                let reason = settlement.errorReason?.rawValue ?? settlement.errorMessage ?? "Unknown settlement failure"
                return required("Payment settlement failed: \(reason)", adding: [MCPPayment.paymentResponseMetaKey: settlement.json])
            case .facilitatorFault:
                return Self.toolError("The payment facilitator is unavailable or answered nonsense; no payment was taken. Try again later.")
            case .storeUnavailable:
                return Self.toolError("Payment state is unavailable; no payment was taken. Try again later.")
            case .requirementsUnavailable:
                return Self.toolError("The price of this tool could not be determined.")
            case .paymentIdentifier(let problem):
                return required(problem.reason.rawValue)
            }
        }
    }

    /// Runs `handler` for at most `limit`: its result, or `nil` when the limit passed first (the
    /// handler is then cancelled and its eventual result dropped, so a tool that ignores
    /// cancellation cannot hold the call, or the payment, any longer).
    static func run(
        _ handler: @escaping ToolHandler, _ parameters: CallTool.Parameters, within limit: Duration?
    ) async throws
        -> CallTool.Result?
    {
        guard let limit else { return try await handler(parameters) }
        let once = OnceResult()
        let work = Task {
            do {
                await once.finish(with: .success(try await handler(parameters)))
            } catch {
                await once.finish(with: .failure(error))
            }
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            await once.finish(with: nil)
        }
        let outcome = await withTaskCancellationHandler {
            await once.value()
        } onCancel: {
            work.cancel()
            timer.cancel()
        }
        work.cancel()
        timer.cancel()
        return try outcome?.get()
    }

    private static func toolError(_ message: String) -> CallTool.Result {
        CallTool.Result(content: [.text(text: message, annotations: nil, _meta: nil)], isError: true)
    }
}

/// The first of a tool's result and its time limit (``PaidTools/run(_:_:within:)``).
private actor OnceResult {
    private var outcome: Result<CallTool.Result, any Error>??
    private var waiters: [CheckedContinuation<Result<CallTool.Result, any Error>?, Never>] = []

    /// Sets the outcome unless one is set (`nil`: the time limit passed).
    func finish(with outcome: Result<CallTool.Result, any Error>?) {
        guard self.outcome == nil else { return }
        self.outcome = .some(outcome)
        for waiter in waiters { waiter.resume(returning: outcome) }
        waiters = []
    }

    func value() async -> Result<CallTool.Result, any Error>? {
        if let outcome { return outcome }
        return await withCheckedContinuation { waiters.append($0) }
    }
}
