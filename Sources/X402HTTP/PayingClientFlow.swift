import Foundation
import X402

/// A buffered HTTP response as the paying clients return it.
public struct PayingClientResponse: Sendable {
    public var status: Int
    public var headers: HeaderFields
    public var body: [UInt8]
    /// Whether and how the call was paid.
    public var payment: PaymentOutcome

    public init(status: Int, headers: HeaderFields, body: [UInt8], payment: PaymentOutcome = .notRequired) {
        self.status = status
        self.headers = headers
        self.body = body
        self.payment = payment
    }

    /// The settlement receipt of a paid call.
    public var settlement: SettleResponse? {
        switch payment {
        case .paid(let receipt): receipt.settlement
        case .rejected(let rejection): rejection.settlement
        case .notRequired: nil
        }
    }
}

/// What happened about payment during one call.
public enum PaymentOutcome: Sendable {
    /// The first answer was not a 402: returned untouched, nothing paid.
    case notRequired
    /// One payment was sent and the server accepted it.
    case paid(PaymentReceipt)
    /// One payment was sent and the server answered 402 again: verification or settlement failed.
    case rejected(PaymentRejection)
}

/// A payment the server accepted.
public struct PaymentReceipt: Sendable {
    /// The option paid.
    public var candidate: PaymentCandidate
    /// The payload sent.
    public var payload: AnyPaymentPayload
    /// The decoded `PAYMENT-RESPONSE` / `X-PAYMENT-RESPONSE`, if the server sent one.
    public var settlement: SettleResponse?
    /// The spend-ledger entry.
    public var recordID: UUID
}

/// A payment the server rejected (a 402 on the paid retry).
public struct PaymentRejection: Sendable, CustomStringConvertible {
    public var candidate: PaymentCandidate
    /// The reason: the settlement's `errorReason`, or the new 402's `error`.
    public var reason: String
    /// A failed settlement receipt, when the server sent one.
    public var settlement: SettleResponse?
    /// The second 402 answer, when it carried one.
    public var paymentRequired: AnyPaymentRequired?
    public var recordID: UUID

    public var description: String { "payment of \(candidate.value.map(\.description) ?? candidate.atomicAmount.decimalString) rejected: \(reason)" }
}

/// Why a paying client could not complete a call (policy refusals are thrown as ``PaymentRefusal``).
public enum PayingClientError: Error, Sendable, CustomStringConvertible {
    /// The 402 answer carried neither a readable `PAYMENT-REQUIRED` header nor an x402 JSON body.
    case unreadablePaymentRequired(X402DecodingError)
    /// The transport failed.
    case transport(String)

    public var description: String {
        switch self {
        case .unreadablePaymentRequired(let e): "the 402 answer is not a readable x402 payment request: \(e)"
        case .transport(let message): "request failed: \(message)"
        }
    }
}

/// The transport-neutral paying flow both clients share: send; on 402 decode, prepare one
/// payment through the ``Payer`` (policy and ledger first), resend once with the payment header,
/// read the settlement. Never loops; never pays twice for one call.
struct PayingFlow: Sendable {
    let payer: Payer

    /// - Parameters:
    ///   - url: the request URL (recorded in the ledger).
    ///   - requestHeaders: the caller's request headers (checked for an existing payment header).
    ///   - send: sends the request with extra headers, returning the buffered response.
    func run(
        url: String, requestHeaders: [(String, String)],
        send: @Sendable ([(String, String)]) async throws -> PayingClientResponse
    ) async throws -> PayingClientResponse {
        let first = try await send([])
        guard first.status == 402 else { return first }

        let carried = requestHeaders.first {
            $0.0.caseInsensitiveCompare(PaymentHeaderName.paymentSignature) == .orderedSame
                || $0.0.caseInsensitiveCompare(PaymentHeaderName.xPayment) == .orderedSame
        }
        if let carried { throw PaymentRefusal.requestAlreadyCarriesPayment(header: carried.0) }

        let required = try Self.paymentRequired(in: first)
        let prepared = try await payer.preparePayment(for: required, resource: required.resource?.url ?? url)

        // From here the payment is signed: exactly one more request, whatever happens.
        var second = try await send([
            (prepared.headerName, prepared.headerValue),
            ("Access-Control-Expose-Headers", "PAYMENT-RESPONSE,X-PAYMENT-RESPONSE"),
        ])
        let settlement = try? SettleResponse.fromResponseHeaders { second.headers[$0] }

        if second.status == 402 {
            let again = try? Self.paymentRequired(in: second)
            let reason = settlement?.errorReason?.rawValue ?? again?.error ?? "payment rejected"
            try? await payer.recordRejection(of: prepared, reason: reason)
            second.payment = .rejected(
                PaymentRejection(
                    candidate: prepared.candidate, reason: reason, settlement: settlement, paymentRequired: again,
                    recordID: prepared.recordID))
            return second
        }
        if let settlement {
            try? await payer.recordSettlement(of: prepared, receipt: settlement)
        } else if second.status >= 400 {
            // The handler failed; servers do not settle then (no receipt): no funds moved.
            try? await payer.recordRejection(of: prepared, reason: "HTTP \(second.status) without settlement")
        }
        // A success without a receipt stays pending in the ledger: it keeps counting.
        second.payment = .paid(
            PaymentReceipt(candidate: prepared.candidate, payload: prepared.payload, settlement: settlement, recordID: prepared.recordID))
        return second
    }

    /// Quotes without paying: `nil` when the answer was not a 402.
    func quote(send: @Sendable ([(String, String)]) async throws -> PayingClientResponse) async throws -> (PayingClientResponse, PaymentQuote?) {
        let first = try await send([])
        guard first.status == 402 else { return (first, nil) }
        return (first, payer.quote(try Self.paymentRequired(in: first)))
    }

    static func paymentRequired(in response: PayingClientResponse) throws -> AnyPaymentRequired {
        do {
            return try AnyPaymentRequired(header: response.headers[PaymentHeaderName.paymentRequired], body: response.body)
        } catch {
            throw PayingClientError.unreadablePaymentRequired(error)
        }
    }
}

/// The result of probing a resource without paying.
public enum PriceProbe: Sendable {
    /// The resource answered without asking for payment.
    case free(PayingClientResponse)
    /// The resource costs this.
    case paymentRequired(PaymentQuote)
}
