// libFuzzer target: the gateway and facilitator configuration files (through their public
// decoding entry points) and the gateway's command-line route and upstream forms.
import Foundation
import X402
import X402Facilitator
import X402Gateway

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? GatewayConfiguration.parse(bytes)
    if let facilitator = try? JSONDecoder().decode(FacilitatorConfiguration.self, from: Data(bytes)) {
        _ = try? facilitator.validate()
    }
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? GatewayConfiguration.Route(spec: text)
    _ = try? UpstreamURL(text)
    return 0
}

// MARK: - Entry point

/// SwiftPM links an executable with `main` renamed to `<module>_main`; this one hands control to
/// libFuzzer's driver with the function above as the target.
@_cdecl("FuzzConfig_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzConfig)
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
