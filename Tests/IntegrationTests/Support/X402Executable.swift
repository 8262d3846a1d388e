import Foundation

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
