import FuzzSupport
// libFuzzer target: `/verify` and `/settle` request bodies as the facilitator decodes them
// (`IncomingFacilitatorRequest`), down to the exact-EVM scheme payload inside.
import X402
import X402EVM

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFacilitatorRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    guard let request = try? IncomingFacilitatorRequest(jsonBytes: bytes) else {
        _ = try? FacilitatorRequest(jsonBytes: bytes)
        return 0
    }
    _ = request.networkIdentifier
    guard case .payment(let payment) = request else { return 0 }
    // The body a client would send for this request must decode to the same request.
    let again = try? IncomingFacilitatorRequest(jsonBytes: payment.jsonBytes())
    guard again == request else { fatalError("request does not survive its own encoding") }
    if let payload = payment.paymentPayload.json["payload"]?.objectValue {
        if let exact = try? ExactEVMPayload(json: payload) {
            _ = ERC6492Signature(wrapped: exact.signature)
        }
    }
    return 0
}

// MARK: - Entry point

@_cdecl("FuzzFacilitatorRequest_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzFacilitatorRequest)
}
