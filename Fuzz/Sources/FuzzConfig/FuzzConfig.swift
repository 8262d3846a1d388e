// libFuzzer target: the gateway and facilitator configuration files (through their public
// decoding entry points) and the gateway's command-line route and upstream forms.
import Foundation
import FuzzSupport
import X402
import X402Facilitator
import X402Gateway

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
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

@_cdecl("FuzzConfig_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzConfig)
}
