public import MCP
public import X402

/// Calls MCP tools and pays for the paid ones through the buyer engine, under the same guard
/// rails as `x402 fetch`: the spending policy (cap, budget, per-host limits, recipient firewall)
/// and, with ``approvals``, the owner's approval queue.
///
/// A call that answers with the payment-required tool error is paid once: an option is chosen
/// and checked, the spend is reserved in the ledger, the payment is signed and the call is sent
/// again with `_meta["x402/payment"]`. The receipt in `_meta["x402/payment-response"]` settles the
/// ledger entry. With ``approvals``, a price that needs the owner (above the approval threshold,
/// or a recipient the firewall does not allow) — or any price when probing — is recorded as a
/// pending purchase and `PurchaseQueued` is thrown: nothing is signed. The purchase is paid
/// later with ``confirm(_:tool:arguments:)``.
///
/// ```swift
/// let client = Client(name: "agent", version: "1.0")
/// _ = try await client.connect(transport: transport)
/// let paying = PayingToolClient(client: client, payer: payer, server: "quotes.example")
/// let call = try await paying.callTool("get_quote", arguments: ["symbol": "ETH"])
/// ```
public struct PayingToolClient: Sendable {
    /// The connected MCP client.
    public let client: Client
    /// Signs and records payments under the policy.
    public var payer: Payer
    /// The owner's approval queue; `nil` pays within the policy and refuses what needs approval
    /// (unless `Payer/approval` says yes).
    public var approvals: PurchaseApprovals?
    /// The name the server is known by: the host of the tools' URLs (`mcp://<server>/tools/<name>`),
    /// which the firewall's host rules, the per-host limits and the ledger use. It is the caller's
    /// name for the server, never the server's claim about itself.
    public var server: String
    /// The longest wait for any answer (default 600 seconds). An unpaid call waits at most 300
    /// seconds; a paid call the requirement's `maxTimeoutSeconds` (300 when absent); both capped
    /// by this. A call not answered in time is cancelled (`notifications/cancelled`) and
    /// ``MCPPaymentError/timedOut(_:)`` is thrown.
    public var maxRequestTimeout: Duration = .seconds(600)
    /// How long a payment whose settlement the server reports pending (`settlement_pending`) is
    /// presented again — the same payment, never a new signature (default 60 seconds; zero: not
    /// at all). The first wait is ``pendingSettlementDelay``, then it doubles up to 15 seconds.
    public var pendingSettlementWait: Duration = .seconds(60)
    /// The first wait before presenting a pending payment again (default 2 seconds).
    public var pendingSettlementDelay: Duration = .seconds(2)

    /// A paying client.
    ///
    /// - Parameters:
    ///   - client: A connected MCP client.
    ///   - payer: The buyer engine (schemes, policy, ledger).
    ///   - approvals: The approval queue, if purchases that need the owner are queued.
    ///   - server: The server's name, used as the host of its tools' URLs.
    public init(client: Client, payer: Payer, approvals: PurchaseApprovals? = nil, server: String) {
        self.client = client
        self.payer = payer
        self.approvals = approvals
        self.server = server
    }

    /// The URL a tool is recorded under: `mcp://<server>/tools/<name>`.
    public func resourceURL(tool: String) -> String { "mcp://\(server)/tools/\(tool)" }

    /// The method recorded for tool calls in pending purchases.
    public static let purchaseMethod = "TOOLS/CALL"

    /// Calls a tool, paying once if it asks for payment and the guard rails allow.
    ///
    /// - Parameters:
    ///   - name: The tool.
    ///   - arguments: Its arguments.
    ///   - probe: With ``approvals``: sign nothing, record the price as a pending purchase
    ///     (`PurchaseStatus/preApproved` or `PurchaseStatus/awaitingApproval`) and throw
    ///     `PurchaseQueued`.
    /// - Returns: The tool's result and what was paid.
    /// - Throws: `PaymentRefusal` when the policy refuses the price, `PurchaseQueued` when it
    ///   was queued for the owner (nothing signed), or the MCP client's error.
    public func callTool(_ name: String, arguments: [String: Value]? = nil, probe: Bool = false) async throws -> ToolCall {
        let first = try await send(name, arguments: arguments, meta: nil)
        guard let required = MCPPayment.paymentRequired(in: first) else { return ToolCall(result: first, payment: nil) }
        let url = resourceURL(tool: name)
        var terms: ApprovedTerms?
        if let approvals {
            switch try await approvals.assess(required, url: url, method: Self.purchaseMethod, probe: probe) {
            case .payNow(_, let approved): terms = approved
            case .queued(let purchase): throw PurchaseQueued(purchase)
            }
        }
        return try await pay(name, arguments: arguments, required: required, url: url, terms: terms)
    }

    /// Pays a pre-approved or owner-approved purchase of a tool call, once: calls the tool again,
    /// and pays only within the approved terms.
    ///
    /// - Parameters:
    ///   - fetchID: The purchase.
    ///   - name: The tool (it must be the purchase's).
    ///   - arguments: The call's arguments.
    /// - Returns: The purchase after the payment and the call.
    /// - Throws: `PurchaseApprovalError` when the purchase cannot be confirmed, `PaymentRefusal`
    ///   when the answer is outside the terms, or the MCP client's error.
    public func confirm(_ fetchID: String, tool name: String, arguments: [String: Value]? = nil) async throws -> (PendingPurchase, ToolCall) {
        guard let approvals else { throw PurchaseApprovalError.unknown(fetchID) }
        let url = resourceURL(tool: name)
        let current = try await approvals.purchase(fetchID)
        guard current.url == url else { throw PaymentRefusal.termsChanged(["resource \(current.url) → \(url)"]) }
        guard current.wallet == payer.wallet else { throw PaymentRefusal.termsChanged(["wallet \(current.wallet) → \(payer.wallet)"]) }
        return try await approvals.confirm(fetchID) { claimed in
            let first = try await send(name, arguments: arguments, meta: nil)
            guard let required = MCPPayment.paymentRequired(in: first) else {
                return (ToolCall(result: first, payment: nil), .failed(reason: "served without payment (nothing paid)"))
            }
            let terms = try approvals.paymentTerms(for: claimed, answer: required, from: url)
            // Which payment this confirmation sends, recorded before it is sent, so that
            // `approvals recover` can settle a confirmation that died mid-way.
            let call = try await pay(name, arguments: arguments, required: required, url: url, terms: terms) { prepared in
                try await approvals.attachPayment(claimed.fetchID, record: prepared.recordID)
            }
            switch call.payment?.outcome {
            case .settled(let settlement)?: return (call, .paid(transaction: settlement.transaction.isEmpty ? nil : settlement.transaction))
            case .notSettled(let reason)?: return (call, .failed(reason: reason))
            case nil: return (call, .failed(reason: "nothing paid"))
            }
        }
    }

    private func pay(
        _ name: String, arguments: [String: Value]?, required: AnyPaymentRequired, url: String, terms: ApprovedTerms?,
        beforeSending: (@Sendable (PreparedPayment) async throws -> Void)? = nil
    ) async throws -> ToolCall {
        let prepared = try await payer.preparePayment(for: required, resource: url, terms: terms)
        if let beforeSending { try await payer.beforeSending(prepared, beforeSending) }
        let timeout = min(.seconds(max(prepared.candidate.requirements.maxTimeoutSeconds ?? 300, 1)), maxRequestTimeout)
        var result: CallTool.Result
        do {
            let meta = try MCPPayment.requestMeta(paying: prepared.payload)
            result = try await send(name, arguments: arguments, meta: meta, timeout: timeout)
            // A settlement the server reports pending: present the same payment again (the server
            // settles it under the same id), never a new signature.
            var delay = pendingSettlementDelay
            var waited = Duration.zero
            while MCPPayment.settlement(in: result)?.errorReason == .settlementPending, waited + delay <= pendingSettlementWait {
                try await Task.sleep(for: delay)
                waited += delay
                delay = min(delay * 2, .seconds(15))
                result = try await send(name, arguments: arguments, meta: meta, timeout: timeout)
            }
        } catch {
            // The signature may have reached the server: it keeps counting until reconciled.
            try? await payer.recordUnconfirmed(of: prepared, reason: "the paid call failed: \(error)")
            throw error
        }
        let receipt = MCPPayment.settlement(in: result)
        if result.isError != true, let receipt, receipt.success {
            try? await payer.recordSettlement(of: prepared, receipt: receipt)
            return ToolCall(result: result, payment: .init(candidate: prepared.candidate, outcome: .settled(receipt)))
        }
        let reason: String
        if let receipt, !receipt.success {
            reason = "settlement failed: \(receipt.errorReason?.rawValue ?? receipt.errorMessage ?? "unknown")"
            try? await payer.recordSettlement(of: prepared, receipt: receipt)
        } else {
            if let again = MCPPayment.paymentRequired(in: result) {
                reason = "payment refused: \(again.error ?? "payment required again")"
            } else if result.isError == true {
                reason = "the tool failed; the payment was not settled"
            } else {
                reason = "the server sent no settlement receipt"
            }
            // The server holds a live signature: the spend counts until the chain says it is unused.
            try? await payer.recordUnconfirmed(of: prepared, reason: reason, transaction: receipt?.transaction)
        }
        return ToolCall(result: result, payment: .init(candidate: prepared.candidate, outcome: .notSettled(reason)))
    }

    private func send(_ name: String, arguments: [String: Value]?, meta: Metadata?, timeout: Duration? = nil) async throws -> CallTool.Result {
        let timeout = timeout ?? min(.seconds(300), maxRequestTimeout)
        let context: RequestContext<CallTool.Result> = try await client.send(
            CallTool.request(CallTool.Parameters(name: name, arguments: arguments, meta: meta)))
        let client = self.client
        return try await withThrowingTaskGroup(of: CallTool.Result?.self) { group in
            group.addTask { try await context.value }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            if let result = first { return result }
            // No answer in time: cancel the request (its pending answer resumes with an error).
            try? await client.cancelRequest(context.requestID, reason: "no answer within \(timeout)")
            throw MCPPaymentError.timedOut("tools/call \(name): no answer within \(timeout)")
        }
    }
}

/// A tool call made by ``PayingToolClient``: the tool's result and what was paid.
public struct ToolCall: Sendable {
    /// How a payment ended.
    public enum Outcome: Sendable {
        /// Settled; the receipt from `_meta["x402/payment-response"]`.
        case settled(SettleResponse)
        /// Sent but not settled (the tool failed, the server refused or the settlement failed):
        /// the ledger keeps it counted until its authorization expires unused.
        case notSettled(String)
    }

    /// A payment sent with the call.
    public struct Payment: Sendable {
        /// The option paid.
        public var candidate: PaymentCandidate
        /// How it ended.
        public var outcome: Outcome
    }

    /// The tool's result (for a settled payment, with the receipt in `_meta`).
    public var result: CallTool.Result
    /// The payment, or `nil` when the tool asked for none.
    public var payment: Payment?
}
