// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "swift-x402",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "X402", targets: ["X402"]),
        .library(name: "X402EVM", targets: ["X402EVM"]),
        .executable(name: "x402-bench", targets: ["x402-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // Core: wire types, codecs, networks, money, role protocols, engines. Foundation only.
        .target(name: "X402", swiftSettings: swiftSettings),

        // libsecp256k1 from the system (Debian libsecp256k1-dev, Homebrew secp256k1).
        .systemLibrary(
            name: "CSecp256k1",
            pkgConfig: "libsecp256k1",
            providers: [.apt(["libsecp256k1-dev"]), .brew(["secp256k1"])]
        ),

        // EVM primitives: keccak, keys, addresses, EIP-712, ABI, RLP, transactions, JSON-RPC.
        .target(
            name: "X402EVM",
            dependencies: [
                "X402",
                "CSecp256k1",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "x402-bench",
            dependencies: ["X402", "X402EVM"],
            path: "Benchmarks/x402-bench",
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "X402Tests",
            dependencies: [
                "X402",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "X402EVMTests",
            dependencies: ["X402", "X402EVM"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        // Against the local devnet (Tools/devnet); see Tests/IntegrationTests/README.md.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "X402",
                "X402EVM",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
