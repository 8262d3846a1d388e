/// The HTTP header names x402 uses.
public enum PaymentHeaderName {
    /// v2: server → client, base64 `PaymentRequired` on a 402.
    public static let paymentRequired = "PAYMENT-REQUIRED"
    /// v2: client → server, base64 `PaymentPayload`.
    public static let paymentSignature = "PAYMENT-SIGNATURE"
    /// v2: server → client, base64 `SettleResponse`.
    public static let paymentResponse = "PAYMENT-RESPONSE"
    /// v1: client → server, base64 `PaymentPayloadV1`.
    public static let xPayment = "X-PAYMENT"
    /// v1: server → client, base64 `SettleResponse`.
    public static let xPaymentResponse = "X-PAYMENT-RESPONSE"
}

/// Why an x402 header value (or JSON body) could not be read. Each case says which layer failed.
public enum X402DecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The value is longer than the accepted limit (checked before any decoding work).
    case tooLarge(length: Int, limit: Int)
    /// The value is not standard base64.
    case invalidBase64(Base64.DecodingError)
    /// The decoded bytes are not JSON.
    case invalidJSON(JSONParseError)
    /// The JSON is not the expected x402 message.
    case invalidMessage(MessageDecodingError)

    public var description: String {
        switch self {
        case .tooLarge(let length, let limit): "header value of \(length) bytes exceeds the limit of \(limit) bytes"
        case .invalidBase64(let e): "header value is not base64: \(e)"
        case .invalidJSON(let e): "header value is not JSON: \(e)"
        case .invalidMessage(let e): "header value is not a valid x402 message: \(e)"
        }
    }
}

/// Encodes and decodes x402 header values: standard base64 of compact UTF-8 JSON.
public enum PaymentHeader {
    /// The longest header value decoded by default: 32 KiB. Larger values are rejected before
    /// base64 decoding. (Node's default limit for all headers together is 16 KiB; a
    /// `PAYMENT-REQUIRED` with several options and extension schemas stays well below 32 KiB.)
    public static let defaultMaximumLength = 32 * 1024

    /// The header value for a JSON value.
    public static func encode(_ json: JSONValue) -> String {
        Base64.encode(json.serialized())
    }

    /// The header value for a message.
    public static func encode(_ message: some JSONRepresentable) -> String {
        encode(message.json)
    }

    /// Decodes a header value to JSON (surrounding whitespace is ignored).
    public static func decodeJSON(_ value: some StringProtocol, maximumLength: Int = defaultMaximumLength) throws(X402DecodingError) -> JSONValue {
        let trimmed = trimWhitespace(value)
        guard trimmed.utf8.count <= maximumLength else { throw .tooLarge(length: trimmed.utf8.count, limit: maximumLength) }
        let bytes: [UInt8]
        do { bytes = try Base64.decode(trimmed) } catch { throw .invalidBase64(error) }
        do { return try JSONValue(parsing: bytes) } catch { throw .invalidJSON(error) }
    }

    /// Decodes a header value to a message.
    public static func decode<Message: JSONRepresentable>(
        _ type: Message.Type, from value: some StringProtocol, maximumLength: Int = defaultMaximumLength
    ) throws(X402DecodingError) -> Message {
        let json = try decodeJSON(value, maximumLength: maximumLength)
        do { return try Message(json: json) } catch { throw .invalidMessage(error) }
    }

    private static func trimWhitespace(_ s: some StringProtocol) -> Substring {
        let sub = Substring(s)
        let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        let scalars = sub.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return sub[sub.endIndex...] }
        let last = scalars.lastIndex(where: { !isSpace($0) }) ?? first
        return Substring(scalars[first...last])
    }
}

extension JSONRepresentable {
    /// Decodes the message from an x402 header value.
    public init(headerValue: some StringProtocol, maximumLength: Int = PaymentHeader.defaultMaximumLength) throws(X402DecodingError) {
        self = try PaymentHeader.decode(Self.self, from: headerValue, maximumLength: maximumLength)
    }

    /// The message as an x402 header value.
    public var headerValue: String { PaymentHeader.encode(json) }
}

extension AnyPaymentRequired {
    /// Reads a 402 answer the way clients of every version must: the v2 `PAYMENT-REQUIRED` header
    /// if present, otherwise a JSON body holding a v1 (or, leniently, v2) object.
    ///
    /// - Parameters:
    ///   - header: the `PAYMENT-REQUIRED` header value, if the response had one.
    ///   - body: the response body.
    ///   - maximumLength: the longest header value accepted, in bytes.
    public init(header: String?, body: some Collection<UInt8>, maximumLength: Int = PaymentHeader.defaultMaximumLength) throws(X402DecodingError) {
        if let header {
            self = .v2(try PaymentRequired(headerValue: header, maximumLength: maximumLength))
            return
        }
        guard body.count <= maximumLength * 4 else { throw .tooLarge(length: body.count, limit: maximumLength * 4) }
        let json: JSONValue
        do { json = try JSONValue(parsing: body) } catch { throw .invalidJSON(error) }
        do { self = try AnyPaymentRequired(json: json) } catch { throw .invalidMessage(error) }
    }
}
