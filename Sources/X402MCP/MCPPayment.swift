public import MCP
public import X402

import struct Foundation.Data
import class Foundation.JSONDecoder
import class Foundation.JSONEncoder

/// The x402 MCP transport's constants and its translations between MCP tool results and x402
/// messages: the payment-required tool error, the payment in `_meta`, the settlement receipt.
///
/// x402 objects travel in MCP as JSON (no base64): the `PaymentPayload` in the request's
/// `params._meta["x402/payment"]`, the `SettleResponse` in the result's
/// `_meta["x402/payment-response"]`, and a `PaymentRequired` as a tool result with `isError: true`
/// whose `structuredContent` is the object and whose first content item is its JSON text.
public enum MCPPayment {
    /// `_meta` key of the payment a client sends with `tools/call`.
    public static let paymentMetaKey = "x402/payment"
    /// `_meta` key of the settlement receipt a server returns with a paid result (and, with
    /// `success: false`, inside a settlement-failure error).
    public static let paymentResponseMetaKey = "x402/payment-response"
    /// The `error` of the answer to a call without payment.
    public static let paymentRequiredError = "Payment required to access this tool"
    /// The largest payment object read from `_meta` (its JSON text): what fits the HTTP header's
    /// limit once base64-encoded.
    public static let maximumPaymentSize = PaymentHeader.defaultMaximumLength / 4 * 3
    /// The largest payment-required text read from a tool result.
    public static let maximumPaymentRequiredSize = 256 * 1024

    /// `mcp://tool/<name>`, the default `resource.url` of a paid tool.
    ///
    /// - Parameter tool: The tool's name.
    /// - Returns: The resource URL.
    public static func resourceURL(tool: String) -> String { "mcp://tool/\(tool)" }

    /// The tool error that asks for payment: `isError: true`, `structuredContent` the object and
    /// `content[0]` its JSON text, as the reference servers send it.
    ///
    /// - Parameter paymentRequired: The 402 answer (any version), or a 402 object with further
    ///   members (a settlement failure adds `x402/payment-response`).
    /// - Returns: The tool result.
    public static func paymentRequiredResult(_ paymentRequired: JSONValue) -> CallTool.Result {
        CallTool.Result(
            content: [.text(text: paymentRequired.serializedString(), annotations: nil, _meta: nil)],
            structuredContent: try? Value(x402: paymentRequired), isError: true)
    }

    /// The payment-required answer inside a tool result, if it is one.
    ///
    /// Only an error result (`isError: true`) is read: `structuredContent` when it holds an object
    /// with `x402Version` and an `accepts` array, else the JSON text of the first content item
    /// when it is text. The v1 form `{"x402/error": {…}}` is accepted too. Anything else is an
    /// ordinary tool error.
    ///
    /// - Parameter result: The tool result.
    /// - Returns: The 402 answer, or `nil`.
    public static func paymentRequired(in result: CallTool.Result) -> AnyPaymentRequired? {
        guard result.isError == true else { return nil }
        if let structured = result.structuredContent, let json = try? JSONValue(mcp: structured), let required = paymentRequired(json) {
            return required
        }
        guard case .text(let text, _, _)? = result.content.first, text.utf8.count <= maximumPaymentRequiredSize,
            let json = try? JSONValue(parsing: text)
        else { return nil }
        return paymentRequired(json)
    }

    private static func paymentRequired(_ json: JSONValue) -> AnyPaymentRequired? {
        if let inner = json["x402/error"], inner.objectValue != nil { return paymentRequired(inner) }
        guard json["x402Version"]?.numberValue != nil, json["accepts"]?.arrayValue != nil else { return nil }
        return try? AnyPaymentRequired(json: json)
    }

    /// The settlement receipt of a tool result (`_meta["x402/payment-response"]`), or of a
    /// settlement-failure error (its `structuredContent["x402/payment-response"]`).
    ///
    /// - Parameter result: The tool result.
    /// - Returns: The receipt, or `nil` when there is none or it cannot be read.
    public static func settlement(in result: CallTool.Result) -> SettleResponse? {
        let value = result._meta?[paymentResponseMetaKey] ?? result.structuredContent?.objectValue?[paymentResponseMetaKey]
        guard let value, let json = try? JSONValue(mcp: value) else { return nil }
        return try? SettleResponse(json: json)
    }

    /// The `_meta` of a paid `tools/call`: `meta`'s fields with the payment added.
    ///
    /// - Parameters:
    ///   - payment: The payment.
    ///   - meta: Further request metadata (a progress token), kept.
    /// - Returns: The metadata to send.
    /// - Throws: When the payment cannot be represented as an MCP value.
    public static func requestMeta(paying payment: AnyPaymentPayload, adding meta: Metadata? = nil) throws -> Metadata {
        var fields = meta?.fields ?? [:]
        fields[paymentMetaKey] = try Value(x402: payment.json)
        return Metadata(additionalFields: fields)
    }

    /// The payment in a `tools/call`'s `_meta`.
    ///
    /// - Parameter meta: The request's `_meta`.
    /// - Returns: `nil` without a payment (absent, or not an object with `x402Version` and
    ///   `payload`); otherwise the decoded payment or why it cannot be read.
    public static func payment(in meta: Metadata?) -> Result<AnyPaymentPayload, MCPPaymentError>? {
        guard let raw = meta?[paymentMetaKey], let object = raw.objectValue, object["x402Version"] != nil, object["payload"] != nil else {
            return nil
        }
        let bytes: Data
        do {
            bytes = try JSONEncoder().encode(raw)
        } catch {
            return .failure(.unreadablePayment("not JSON"))
        }
        guard bytes.count <= maximumPaymentSize else { return .failure(.unreadablePayment("larger than \(maximumPaymentSize) bytes")) }
        do {
            return .success(try AnyPaymentPayload(json: try JSONValue(parsing: bytes)))
        } catch {
            return .failure(.unreadablePayment("\(error)"))
        }
    }
}

/// Why an x402 message in an MCP message could not be used.
public enum MCPPaymentError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The payment in `_meta["x402/payment"]` is malformed or too large.
    case unreadablePayment(String)
    /// A tool name that cannot be a paid tool (MCP names are 1–128 of `A-Z a-z 0-9 _ - .`).
    case invalidToolName(String)
    /// A call was not answered in time and was cancelled.
    case timedOut(String)

    /// What went wrong, in a sentence (peer text bounded).
    public var description: String {
        switch self {
        case .unreadablePayment(let why): "unreadable payment: \(why)"
        case .invalidToolName(let name): "not a valid MCP tool name: \(name.prefix(140))"
        case .timedOut(let what): what
        }
    }
}

extension JSONValue {
    /// The x402 JSON value of an MCP value (parsed with the package's strict parser: its depth
    /// and number limits apply).
    ///
    /// - Parameter value: The MCP value.
    /// - Throws: When the value is not JSON (a non-finite number) or breaks the parser's limits.
    public init(mcp value: MCP.Value) throws {
        self = try JSONValue(parsing: try JSONEncoder().encode(value))
    }
}

extension Value {
    /// The MCP value of an x402 JSON value. Numbers become `int` when they are integers that fit,
    /// else `double`; x402 amounts are strings and keep every digit.
    ///
    /// - Parameter json: The JSON value.
    /// - Throws: When the MCP decoder refuses the text.
    public init(x402 json: JSONValue) throws {
        self = try JSONDecoder().decode(Value.self, from: Data(json.serialized()))
    }
}
