// swift-tools-version: 6.1
// libFuzzer targets for every decoder that sees bytes from a peer. A separate package so the
// sanitizer flags never reach the main build and `swift build` at the root builds no fuzzer.
// Build and run with `scripts/fuzz` (see docs/fuzzing.md); the scratch path is Fuzz/.build.
import PackageDescription

let settings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

/// One executable per decoder; `name` is what `scripts/fuzz` calls the target.
func fuzzer(_ name: String, _ target: String, _ dependencies: [Target.Dependency]) -> (Product, Target) {
    (
        .executable(name: "fuzz-\(name)", targets: [target]),
        .executableTarget(
            name: target, dependencies: ["FuzzSupport"] + dependencies, path: "Sources/\(target)", swiftSettings: settings)
    )
}

let x402: Target.Dependency = .product(name: "X402", package: "swift-x402")
let x402EVM: Target.Dependency = .product(name: "X402EVM", package: "swift-x402")
let x402EVMRPC: Target.Dependency = .product(name: "X402EVMRPC", package: "swift-x402")
let x402Solana: Target.Dependency = .product(name: "X402Solana", package: "swift-x402")
let x402Facilitator: Target.Dependency = .product(name: "X402Facilitator", package: "swift-x402")

let fuzzers = [
    fuzzer("header", "FuzzHeader", [x402]),
    fuzzer("json", "FuzzJSON", [x402]),
    fuzzer("facilitator-request", "FuzzFacilitatorRequest", [x402, x402EVM]),
    fuzzer("jsonrpc", "FuzzJSONRPC", [x402, x402EVM, x402EVMRPC]),
    fuzzer("rlp", "FuzzRLP", [x402, x402EVM]),
    fuzzer("abi", "FuzzABI", [x402, x402EVM]),
    fuzzer("typed-data", "FuzzTypedData", [x402, x402EVM]),
    fuzzer("solana", "FuzzSolana", [x402, x402Solana]),
    fuzzer(
        "config", "FuzzConfig",
        [x402, .product(name: "X402Gateway", package: "swift-x402"), x402Facilitator]),
    fuzzer("extensions", "FuzzExtensions", [x402, x402EVM, x402Solana, x402Facilitator]),
]

let package = Package(
    name: "x402-fuzz",
    platforms: [.macOS(.v14)],
    products: fuzzers.map(\.0),
    dependencies: [.package(name: "swift-x402", path: "..")],
    targets: [.target(name: "FuzzSupport", path: "Sources/FuzzSupport", swiftSettings: settings)] + fuzzers.map(\.1)
)
