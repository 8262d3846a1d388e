import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The built `x402` executable: `X402_CLI` (or `X402_CLI_PATH`), else next to the test bundle
/// (`swift build --build-tests` builds both into the same folder).
func x402Executable() throws -> URL {
    let environment = ProcessInfo.processInfo.environment
    if let path = environment["X402_CLI"] ?? environment["X402_CLI_PATH"], !path.isEmpty { return URL(fileURLWithPath: path) }
    let candidates = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
        Bundle.main.bundleURL.deletingLastPathComponent(),
        Bundle.main.bundleURL,
    ]
    for directory in candidates {
        // On macOS the tests run inside an .xctest bundle, one level further down.
        for url in [directory.appendingPathComponent("x402"), directory.deletingLastPathComponent().appendingPathComponent("x402")]
        where FileManager.default.isExecutableFile(atPath: url.path) {
            return url
        }
    }
    throw DevnetError(description: "the x402 executable was not found (build it, or set X402_CLI); looked in \(candidates.map(\.path))")
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
func freeLoopbackPort() throws -> Int {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw DevnetError(description: "socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw DevnetError(description: "bind() failed") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw DevnetError(description: "getsockname() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}
