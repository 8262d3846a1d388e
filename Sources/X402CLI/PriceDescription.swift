import Foundation
import X402

/// One priced option, for human and JSON output.
struct PriceDescription {
    let candidate: PaymentCandidate

    var decimalAmount: String? { candidate.tokenAmount }
    var symbol: String { candidate.asset?.symbol ?? candidate.requirements.asset }

    /// `$0.01 (10000 atomic units of USDC)`.
    var human: String {
        let atomic = "\(candidate.atomicAmount.decimalString) atomic units of \(symbol)"
        if let value = candidate.value { return "\(value) (\(atomic))" }
        return atomic
    }

    var json: JSONObject {
        var o: JSONObject = [
            "network": .string(candidate.network.identifier),
            "asset": .string(candidate.requirements.asset),
            "amount": .string(candidate.atomicAmount.decimalString),
            "amountDecimal": decimalAmount.map(JSONValue.string) ?? .null,
            "payTo": .string(candidate.payTo),
            "scheme": .string(candidate.scheme),
        ]
        o["symbol"] = candidate.asset.map { .string($0.symbol) } ?? .null
        o["usd"] = candidate.value.map { .string($0.decimalString) } ?? .null
        o["x402Version"] = .number(JSONNumber(Int(candidate.version.rawValue)))
        return o
    }
}

extension PaymentRefusal {
    /// A stable rule name for scripts.
    var rule: String {
        switch self {
        case .noSupportedOption: "noSupportedOption"
        case .networkNotAllowed: "networkNotAllowed"
        case .assetNotAllowed: "assetNotAllowed"
        case .recipientDenied: "recipientDenied"
        case .recipientNotAllowed: "recipientNotAllowed"
        case .unpricedAsset: "unpricedAsset"
        case .exceedsPerPaymentCap: "perPaymentCap"
        case .approvalDenied: "approvalThreshold"
        case .exceedsBudget: "budget"
        case .requestAlreadyCarriesPayment: "requestAlreadyCarriesPayment"
        case .crossOriginPaymentRequest: "crossOriginPayment"
        case .hostDenied: "hostDenied"
        case .recipientNotApproved: "firewall"
        case .exceedsHostBudget: "hostBudget"
        case .termsChanged: "termsChanged"
        }
    }

    /// `{rule, message, ...numbers}`.
    var json: JSONObject {
        var o: JSONObject = ["rule": .string(rule), "message": .string(description)]
        switch self {
        case .exceedsPerPaymentCap(let amount, let cap):
            o["amount"] = .string(amount.decimalString)
            o["cap"] = .string(cap.decimalString)
        case .approvalDenied(let amount, let threshold):
            o["amount"] = .string(amount.decimalString)
            o["threshold"] = .string(threshold.decimalString)
        case .exceedsBudget(let amount, let spent, let budget, let window):
            o["amount"] = .string(amount.decimalString)
            o["spent"] = .string(spent.decimalString)
            o["budget"] = .string(budget.decimalString)
            o["windowSeconds"] = .number(JSONNumber(window.components.seconds))
        case .networkNotAllowed(let n): o["network"] = .string(n.identifier)
        case .assetNotAllowed(let a, let n), .unpricedAsset(let a, let n):
            o["asset"] = .string(a)
            o["network"] = .string(n.identifier)
        case .recipientDenied(let r), .recipientNotAllowed(let r): o["recipient"] = .string(r)
        case .noSupportedOption(let offered): o["offered"] = .array(offered.map(JSONValue.string))
        case .requestAlreadyCarriesPayment(let header): o["header"] = .string(header)
        case .crossOriginPaymentRequest(let requested, let answeredBy):
            o["requestedOrigin"] = .string(requested)
            o["paymentOrigin"] = .string(answeredBy)
        case .hostDenied(let host): o["host"] = .string(host)
        case .recipientNotApproved(let payTo, let host):
            o["recipient"] = .string(payTo)
            o["host"] = host.map(JSONValue.string) ?? .null
        case .exceedsHostBudget(let host, let amount, let spent, let budget, let window):
            o["host"] = .string(host)
            o["amount"] = .string(amount.decimalString)
            o["spent"] = .string(spent.decimalString)
            o["budget"] = .string(budget.decimalString)
            o["windowSeconds"] = .number(JSONNumber(window.components.seconds))
        case .termsChanged(let changes): o["changes"] = .array(changes.map(JSONValue.string))
        }
        return o
    }
}

extension SettleResponse {
    var summaryJSON: JSONObject {
        var o: JSONObject = [
            "success": .bool(success), "transaction": .string(transaction),
            "payer": payer.map(JSONValue.string) ?? .null, "network": .string(network),
        ]
        if let errorReason { o["errorReason"] = .string(errorReason.rawValue) }
        return o
    }
}
