import FuzzSupport
// libFuzzer target: the x402 header codec and the messages it carries (v1 and v2 payment
// payloads, 402 answers, settle/verify answers, discovery). The input is tried both as a header
// value (base64) and as the JSON text inside one, so the fuzzer reaches the message decoders
// without first having to discover base64.
import X402

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHeader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    let text = String(decoding: bytes, as: UTF8.self)

    // Whole paths as sellers, gateways and buyers run them on a header value.
    roundTrip(try? AnyPaymentPayload(headerValue: text))
    _ = try? AnyPaymentRequired(header: text, body: [UInt8]())
    _ = try? AnyPaymentRequired(header: nil, body: bytes)

    // Every message decoder on the JSON inside a header (decoded once), and on the input as JSON
    // text (bodies), so the fuzzer reaches the decoders without first having to discover base64.
    if let json = try? PaymentHeader.decodeJSON(text) { decodeMessages(json) }
    if let json = try? JSONValue(parsing: bytes) { decodeMessages(json) }
    return 0
}

func decodeMessages(_ json: JSONValue) {
    _ = try? X402Version.detect(in: json)
    roundTrip(try? AnyPaymentPayload(json: json))
    roundTrip(try? PaymentPayload(json: json))
    roundTrip(try? PaymentPayloadV1(json: json))
    roundTrip(try? PaymentRequired(json: json))
    roundTrip(try? PaymentRequiredV1(json: json))
    roundTrip(try? PaymentRequirements(json: json))
    roundTrip(try? PaymentRequirementsV1(json: json))
    roundTrip(try? SettleResponse(json: json))
    roundTrip(try? VerifyResponse(json: json))
    roundTrip(try? SupportedResponse(json: json))
    roundTrip(try? DiscoveryResponse(json: json))
}

/// A decoded message must encode to a header that decodes again (to an equal message for the
/// types whose encoding keeps everything it decoded).
func roundTrip<M: JSONRepresentable & Equatable>(_ message: M?) {
    guard let message else { return }
    let header = message.headerValue
    guard let again = try? M(headerValue: header, maximumLength: .max) else {
        fatalError("\(M.self) does not decode its own encoding: \(header)")
    }
    _ = again == message
}

// MARK: - Entry point

@_cdecl("FuzzHeader_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzHeader)
}
