// libFuzzer target: `/verify` and `/settle` request bodies as the facilitator decodes them
// (`IncomingFacilitatorRequest`), down to the exact-EVM scheme payload inside.
import X402
import X402EVM

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFacilitatorRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
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

/// SwiftPM links an executable with `main` renamed to `<module>_main`; this one hands control to
/// libFuzzer's driver with the function above as the target.
@_cdecl("FuzzFacilitatorRequest_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzFacilitatorRequest)
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
