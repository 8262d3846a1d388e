// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0335-existential-any.md
    .enableUpcomingFeature("ExistentialAny"),
    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0444-member-import-visibility.md
    .enableUpcomingFeature("MemberImportVisibility"),
    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0409-access-level-on-imports.md
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "swift-x402",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "X402", targets: ["X402"]),
        .library(name: "X402EVM", targets: ["X402EVM"]),
        .library(name: "X402EVMRPC", targets: ["X402EVMRPC"]),
        .library(name: "X402Solana", targets: ["X402Solana"]),
        .library(name: "X402SolanaRPC", targets: ["X402SolanaRPC"]),
        .library(name: "X402HTTP", targets: ["X402HTTP"]),
        .library(name: "X402SQLite", targets: ["X402SQLite"]),
        .library(name: "X402Hummingbird", targets: ["X402Hummingbird"]),
        .library(name: "X402Facilitator", targets: ["X402Facilitator"]),
        .library(name: "X402Vapor", targets: ["X402Vapor"]),
        .library(name: "X402Postgres", targets: ["X402Postgres"]),
        .library(name: "X402Gateway", targets: ["X402Gateway"]),
        .library(name: "X402MCP", targets: ["X402MCP"]),
        .executable(name: "x402", targets: ["X402CLI"]),
    ],
    // Heavy optional dependencies sit behind traits (on by default, so this repository and CI build
    // everything). A consumer that needs neither depends with `traits: []`; see docs/benchmarks.md
    // ("Build cost") for what that saves. Code in those modules is compiled under `#if Vapor` /
    // `#if PostgreSQL`, so the package also builds with `--disable-default-traits`.
    traits: [
        .trait(name: "Vapor", description: "X402Vapor: the Vapor 4 middleware (vapor/vapor)."),
        .trait(name: "PostgreSQL", description: "X402Postgres: PostgreSQL stores (postgres-nio) for state shared by several instances."),
        .default(enabledTraits: ["Vapor", "PostgreSQL"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", from: "0.12.1"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
    ],
    targets: [
        // Core: wire types, codecs, networks, money, role protocols, engines. Foundation and
        // swift-http-types (the seller's currency types: `HTTPFields`, `HTTPRequest.Method`, `HTTPResponse.Status`).
        .target(
            name: "X402",
            dependencies: [.product(name: "HTTPTypes", package: "swift-http-types")],
            swiftSettings: swiftSettings
        ),

        // libsecp256k1 from the system (Debian libsecp256k1-dev, Homebrew secp256k1).
        .systemLibrary(
            name: "CSecp256k1",
            pkgConfig: "libsecp256k1",
            providers: [.apt(["libsecp256k1-dev"]), .brew(["secp256k1"])]
        ),

        // EVM primitives: keccak, keys, addresses, EIP-712, ABI, RLP, transactions, the
        // `EthereumClient` protocol. No networking: a buyer that only signs builds no HTTP client.
        .target(
            name: "X402EVM",
            dependencies: ["X402", "CSecp256k1", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),

        // `JSONRPCClient`: the `EthereumClient` over HTTP JSON-RPC (AsyncHTTPClient), kept out of X402EVM.
        .target(
            name: "X402EVMRPC",
            dependencies: [
                .product(name: "NIOHTTP1", package: "swift-nio"),
                "X402", "X402EVM",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // Solana primitives: base58, Ed25519 keys (swift-crypto), PDAs/ATAs, instructions, messages,
        // transactions, the exact scheme, the `SolanaRPC` protocol. No networking.
        .target(
            name: "X402Solana",
            dependencies: ["X402", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),

        // `SolanaJSONRPCClient`: `SolanaRPC` over HTTP JSON-RPC, on the EVM client's transport and retry rules.
        .target(
            name: "X402SolanaRPC",
            dependencies: [
                "X402", "X402Solana", "X402EVM", "X402EVMRPC",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),

        // HTTP: facilitator client, paying client (AsyncHTTPClient).
        .target(
            name: "X402HTTP",
            dependencies: [
                .product(name: "NIOHTTP1", package: "swift-nio"),
                "X402",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // SQLite stores (GRDB) for payment state, spend ledgers, settlements and the discovery catalog; protocols live in X402.
        .target(
            name: "X402SQLite",
            dependencies: ["X402", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),

        // Hummingbird 2 middleware: a thin adapter over the core resource server.
        .target(
            name: "X402Hummingbird",
            dependencies: [
                "X402", "X402HTTP",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),

        // Vapor 4 middleware: a thin adapter over the core resource server.
        .target(
            name: "X402Vapor",
            dependencies: [
                "X402", "X402HTTP",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Vapor", package: "vapor", condition: .when(traits: ["Vapor"])),
            ],
            swiftSettings: swiftSettings
        ),

        // PostgreSQL stores (postgres-nio) for payment state and settlements shared across instances.
        .target(
            name: "X402Postgres",
            dependencies: [
                "X402",
                .product(name: "PostgresNIO", package: "postgres-nio", condition: .when(traits: ["PostgreSQL"])),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // `x402 gateway`: a paid reverse proxy in front of any HTTP service.
        .target(
            name: "X402Gateway",
            dependencies: [
                .product(name: "NIOHTTP1", package: "swift-nio"),
                "X402", "X402HTTP", "X402Hummingbird",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // x402 over MCP: paid tools (a seller wrapper for tool handlers) and a paying tool-call client,
        // on the transport-free resource-server and buyer engines. No HTTP client.
        .target(
            name: "X402MCP",
            dependencies: [
                "X402",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),

        // The facilitator service: routes, config, signers, settlement, discovery. It takes its stores
        // as protocols; the CLI opens SQLite or PostgreSQL.
        .target(
            name: "X402Facilitator",
            dependencies: [
                "X402", "X402EVM", "X402EVMRPC", "X402Solana", "X402SolanaRPC", "X402HTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // The `x402` command-line tool.
        .executableTarget(
            name: "X402CLI",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                "X402", "X402EVM", "X402EVMRPC", "X402Solana", "X402SolanaRPC", "X402HTTP", "X402SQLite", "X402Hummingbird",
                "X402Gateway", "X402Facilitator", "X402MCP",
                .target(name: "X402Postgres", condition: .when(traits: ["PostgreSQL"])),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // Helpers shared by the test targets (not a product): the scripted facilitator, the USDC scheme
        // server, loopback servers, free ports, the process runner, the `.postgres` trait and the
        // payment-state store checks.
        .target(
            name: "X402TestSupport",
            dependencies: [
                "X402",
                "X402Postgres",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "X402Tests",
            dependencies: [
                "X402",
                "X402TestSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "X402EVMTests",
            dependencies: ["X402", "X402EVM", "X402TestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "X402SolanaTests",
            dependencies: ["X402", "X402Solana", "X402TestSupport", .product(name: "HTTPTypes", package: "swift-http-types")],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        // Against the local Solana chain (Tools/svmnet); fails in CI when it is missing.
        .testTarget(
            name: "X402SolanaRPCTests",
            dependencies: ["X402", "X402EVMRPC", "X402Solana", "X402SolanaRPC", "X402TestSupport"],
            swiftSettings: swiftSettings
        ),
        // The JSON-RPC transport against a raw-socket test node that injects faults.
        .testTarget(
            name: "X402EVMRPCTests",
            dependencies: ["X402", "X402EVM", "X402EVMRPC", "X402TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "X402HTTPTests",
            dependencies: [
                "X402", "X402EVM", "X402HTTP", "X402Hummingbird", "X402TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "X402SQLiteTests",
            dependencies: ["X402", "X402SQLite", "X402TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "X402HummingbirdTests",
            dependencies: [
                "X402", "X402HTTP", "X402Hummingbird", "X402TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "X402FacilitatorTests",
            dependencies: [
                "X402", "X402EVM", "X402Facilitator", "X402SQLite",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "X402VaporTests",
            dependencies: [
                "X402", "X402HTTP", "X402Vapor", "X402TestSupport",
                .product(name: "VaporTesting", package: "vapor"),
            ],
            swiftSettings: swiftSettings
        ),
        // Against a real PostgreSQL server (Tools/postgres); fails in CI when the server is missing.
        .testTarget(
            name: "X402PostgresTests",
            dependencies: ["X402", "X402Postgres", "X402TestSupport", .product(name: "PostgresNIO", package: "postgres-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "X402GatewayTests",
            dependencies: [
                "X402", "X402EVM", "X402HTTP", "X402Gateway", "X402TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        // One table of request variants run against the Hummingbird and Vapor middlewares and the gateway.
        .testTarget(
            name: "SellerConformanceTests",
            dependencies: [
                "X402", "X402Hummingbird", "X402Vapor", "X402Gateway", "X402TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The MCP seller wrapper and paying client over the SDK's in-memory transport.
        .testTarget(
            name: "X402MCPTests",
            dependencies: [
                "X402", "X402EVM", "X402MCP", "X402TestSupport",
                .product(name: "MCP", package: "swift-sdk"),
            ],
            swiftSettings: swiftSettings
        ),
        // Runs the built `x402` binary against local paid servers.
        .testTarget(
            name: "X402CLITests",
            dependencies: [
                "X402", "X402EVM", "X402HTTP", "X402Hummingbird", "X402CLI", "X402Facilitator", "X402Gateway", "X402SQLite", "X402TestSupport",
                "X402MCP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        // Against the local devnet (Tools/devnet); see Tests/IntegrationTests/README.md.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "X402",
                "X402EVM",
                "X402EVMRPC",
                "X402Solana",
                "X402SolanaRPC",
                "X402HTTP",
                "X402Hummingbird",
                "X402Facilitator",
                "X402SQLite",
                "X402Postgres",
                "X402Vapor",
                "X402Gateway",
                "X402MCP",
                "X402TestSupport",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Vapor", package: "vapor"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)

// The documentation plugin (`swift package generate-documentation`), only when the docs are built
// (scripts/docs sets X402_DOCS=1), so consumers and ordinary builds do not resolve it.
if Context.environment["X402_DOCS"] != nil {
    package.dependencies.append(.package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"))
}

// Benchmarks and examples: only when X402_DEV_TARGETS is set (`.ci/run`, `scripts/test`,
// `scripts/demo` and the commands in docs/benchmarks.md set it), like ENABLE_HB_BENCHMARKS in
// Hummingbird, so that neither a plain `swift build` here nor a consumer's build compiles them.
if Context.environment["X402_DEV_TARGETS"] != nil {
    package.products.append(.executable(name: "x402-bench", targets: ["x402-bench"]))
    package.targets += [
        .executableTarget(
            name: "x402-bench",
            dependencies: ["X402", "X402EVM", "X402Solana"],
            path: "Benchmarks/x402-bench",
            swiftSettings: swiftSettings
        ),

        // HTTP-level load benchmarks: the seller's 402 and paid paths, the facilitator's /verify.
        .executableTarget(
            name: "x402-loadbench",
            dependencies: [
                "X402", "X402EVM", "X402HTTP", "X402Hummingbird", "X402Facilitator",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Benchmarks/x402-loadbench",
            swiftSettings: swiftSettings
        ),

        // Examples (each under 60 lines); CI builds them (X402_DEV_TARGETS=1) so they keep compiling.
        .executableTarget(
            name: "example-hummingbird-seller",
            dependencies: [
                "X402", "X402EVM", "X402Solana", "X402HTTP", "X402Hummingbird",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Examples/HummingbirdSeller",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "example-vapor-seller",
            dependencies: [
                "X402", "X402EVM", "X402HTTP", "X402Vapor",
                .product(name: "Vapor", package: "vapor", condition: .when(traits: ["Vapor"])),
            ],
            path: "Examples/VaporSeller",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "example-buyer",
            dependencies: [
                "X402", "X402EVM", "X402Solana", "X402SolanaRPC", "X402HTTP", .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Examples/Buyer",
            swiftSettings: swiftSettings
        ),
    ]
}
