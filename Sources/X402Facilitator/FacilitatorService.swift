public import Foundation
public import Hummingbird
public import Logging
public import NIOCore
import ServiceLifecycle
public import X402
import X402EVM
import X402EVMRPC
import X402Solana
import X402SolanaRPC

/// A runnable facilitator assembled from a ``FacilitatorConfiguration``: EVM chains with their
/// signer keys and Solana clusters with their fee payers, the `exact` scheme on both, the engine,
/// the HTTP routes and the lifecycle services.
public struct FacilitatorService: Sendable {
    public let configuration: FacilitatorConfiguration
    public let engine: FacilitatorEngine
    public let routes: FacilitatorRoutes
    /// The facilitator's addresses per network (for start-up logs and `/supported`).
    public let signerAddresses: [Network: [String]]
    let logger: Logger
    let extraServices: [any Service]

    /// Assembles the service. Signer keys are read from the environment variables and files the
    /// configuration names; their values are never logged.
    /// - Parameters:
    ///   - configuration: What to serve; validated first.
    ///   - openStorage: Opens the stores for the configuration's ``FacilitatorConfiguration/databaseLocation()``
    ///     (called once, after the signer keys are loaded). The default keeps everything in memory
    ///     and refuses any other location.
    ///   - environment: Where signer keys and bearer tokens named by the configuration are read.
    ///   - logger: The service's logger.
    /// - Throws: ``FacilitatorConfigurationError`` for a configuration problem, or what `openStorage` throws.
    public init(
        configuration: FacilitatorConfiguration,
        openStorage: @Sendable (StoreLocation) async throws -> FacilitatorStorage = { try FacilitatorStorage.openInMemoryOnly($0) },
        environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger = Logger(label: "x402.facilitator")
    ) async throws {
        try configuration.validate()
        let bearerTokens = configuration.resolvedBearerTokens(environment: environment)
        try configuration.validateExposure(bearerTokens: bearerTokens)
        self.configuration = configuration
        self.logger = logger
        let fees = FeePolicy(
            maximumFeePerGas: UInt256(configuration.maxFeePerGasWei),
            maximumPriorityFeePerGas: UInt256(configuration.maxPriorityFeePerGasWei))

        var chains: [EVMFacilitatorChain] = []
        var exactNetworks: [Network] = []
        var addresses: [Network: [String]] = [:]
        var solanaNodes: [Network: any SolanaRPC] = [:]
        var feePayers: [Network: [SolanaKeypair]] = [:]
        for (index, entry) in configuration.networks.enumerated() {
            let network = entry.network
            let urls = try configuration.resolvedRPCURLs(ofNetworkAt: index, environment: environment)
            if network.isSolana {
                let keys = try Self.loadSolanaKeys(
                    environmentVariables: entry.signerKeyEnv ?? configuration.svmSignerKeyEnv,
                    files: entry.signerKeyFiles ?? configuration.svmSignerKeyFiles, environment: environment, network: network)
                // Each network pays from its own keys (a devnet key never pays on mainnet).
                var own: [SolanaKeypair] = []
                for key in keys where !own.contains(where: { $0.publicKey == key.publicKey }) { own.append(key) }
                feePayers[network] = own
                solanaNodes[network] =
                    urls.count == 1
                    ? SolanaJSONRPCClient(configuration: .init(url: urls[0]))
                    : FailoverSolanaRPC(urls: urls, configuration: .init(url: urls[0]), options: .init(expectedCluster: String(network.reference)))
                continue
            }
            let keys = try Self.loadKeys(
                environmentVariables: entry.signerKeyEnv ?? configuration.signerKeyEnv,
                files: entry.signerKeyFiles ?? configuration.signerKeyFiles, environment: environment, network: network)
            let client: any EthereumClient =
                urls.count == 1
                ? JSONRPCClient(configuration: .init(url: urls[0]))
                : FailoverEthereumClient(urls: urls, configuration: .init(url: urls[0]), options: .init(expectedChainID: network.chainID))
            chains.append(EVMFacilitatorChain(network: network, client: client, signers: keys, fees: fees))
            addresses[network] = keys.map(\.address.checksummed)
            if (entry.schemes ?? ["exact"]).contains("exact") { exactNetworks.append(network) }
        }
        let storage = try await openStorage(configuration.databaseLocation())
        var solanaSchemes: [(any SchemeFacilitator, [Network])] = []
        if !solanaNodes.isEmpty {
            var svmOptions = ExactSVMFacilitator.Options()
            svmOptions.simulateInVerify = configuration.simulateInVerify
            let svm = ExactSVMFacilitator(
                nodes: solanaNodes, feePayersByNetwork: feePayers, options: svmOptions, records: storage.schemeRows, exclusion: storage.exclusion)
            for network in solanaNodes.keys { addresses[network] = svm.signers(for: network) }
            solanaSchemes.append((svm, solanaNodes.keys.sorted()))
        }
        signerAddresses = addresses

        var options = ExactEVMFacilitator.Options()
        options.simulateInVerify = configuration.simulateInVerify
        options.receiptTimeout = .seconds(configuration.receiptTimeoutSeconds)
        options.replaceStuckTransactionsAfter = configuration.replaceStuckAfterSeconds > 0 ? UInt64(configuration.replaceStuckAfterSeconds) : nil
        options.coalesceSimulations = configuration.coalesceSimulations
        options.simulationWindow = .milliseconds(configuration.simulationWindowMilliseconds)
        options.maximumSimulationBatch = configuration.maxSimulationBatch
        options.batchSettlements = configuration.batchSettlements
        options.settlementBatchWindow = .milliseconds(configuration.settlementBatchWindowMilliseconds)
        options.maximumSettlementBatch = configuration.maxSettlementBatch
        options.maximumContractWalletGas = configuration.maxGasPerSettlement
        options.deployERC6492Wallets = configuration.deployERC6492Wallets
        options.erc6492Factories = Set(configuration.erc6492Factories.compactMap { try? EthereumAddress($0, validatingChecksum: false) })
        for (network, addresses) in configuration.acceptedAssets {
            guard let network = Network(network) else { continue }
            options.acceptedAssets[network, default: []].formUnion(
                addresses.compactMap { try? EthereumAddress($0, validatingChecksum: false) })
        }
        let metrics = FacilitatorMetrics()
        let exact = ExactEVMFacilitator(
            chains: chains, options: options, records: storage.evmRecords,
            gasSpent: { network, gas in metrics.gasUsed(network: network.identifier, gas: gas) })

        let versions: Set<X402Version> = configuration.v1 ? [.v2, .v1] : [.v2]
        let engine = FacilitatorEngine(
            schemes: (exactNetworks.isEmpty ? [] : [(exact, exactNetworks)]) + solanaSchemes, versions: versions,
            // The facilitator-side extensions it implements (the reference lists these keys):
            // the catalog, and settlement dedup by payment-identifier (the journal). Sign-in
            // with x is between seller and client only.
            extensions: ["bazaar", PaymentIdentifier.extensionKey])
        self.engine = engine
        let catalog = DiscoveryCatalog(
            timeToLive: .seconds(max(1, configuration.discoveryTTLSeconds)),
            store: storage.discovery, logger: logger)
        let journal = storage.journal
        routes = FacilitatorRoutes(
            engine: engine,
            options: .init(
                bearerTokens: bearerTokens, maxBodyBytes: configuration.maxBodyBytes,
                clientRate: configuration.rateLimitPerClient, payerRate: configuration.rateLimitPerPayer),
            metrics: metrics, catalog: catalog,
            settle: { incoming, logger in await journal.settle(incoming, engine: engine, logger: logger) })
        extraServices = [
            SettlementDrainService(tracker: routes.tracker),
            SignerMaintenanceService(pools: chains.map(\.signers)),
            SettlementResumeService(
                resumer: SettlementResumer(
                    journal: journal, records: storage.evmRecords, chains: chains, logger: logger,
                    onPass: { pending, oldest in metrics.pendingSettlements(pending, oldestAgeSeconds: oldest) }),
                interval: .seconds(5)),
        ]
    }

    /// The Hummingbird application; `onServerRunning` receives the bound channel (its port when 0 was asked).
    public func application(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(
            router: routes.router(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "x402-facilitator"),
            services: extraServices, onServerRunning: onServerRunning, logger: logger)
    }

    /// Runs until SIGINT/SIGTERM, then stops accepting requests and finishes in-flight settlements.
    public func run() async throws {
        for (network, list) in signerAddresses.sorted(by: { $0.key < $1.key }) {
            logger.info("serving network", metadata: ["network": "\(network)", "signers": "\(list.joined(separator: ","))"])
        }
        try await application().runService()
    }

    /// Reads Solana fee-payer keypairs from environment variables and files: base58 64-byte keypairs
    /// (several separated by commas or newlines), or a file holding one JSON byte array
    /// (`solana-keygen`). Values are never logged.
    static func loadSolanaKeys(
        environmentVariables: [String], files: [String], environment: [String: String], network: Network
    ) throws(FacilitatorConfigurationError) -> [SolanaKeypair] {
        let texts = try readKeyTexts(
            environmentVariables: environmentVariables, files: files, environment: environment, role: "fee payer", network: network)
        var keys: [SolanaKeypair] = []
        for (source, text) in texts {
            let whole = text.trimmingCharacters(in: .whitespacesAndNewlines)
            // A `solana-keygen` file is one JSON array, whose commas are not key separators.
            let parts = whole.hasPrefix("[") ? [whole] : keyParts(whole)
            for part in parts {
                guard let key = try? SolanaKeypair(text: part) else {
                    throw .signerKey("\(source) does not hold a 64-byte Solana keypair (base58 or a JSON byte array)")
                }
                keys.append(key)
            }
        }
        guard !keys.isEmpty else {
            throw .signerKey("no fee-payer key for \(network) (use --svm-signer-key-env NAME or --svm-signer-key-file PATH)")
        }
        return keys
    }

    /// Reads hex keys from environment variables and files; several keys may be separated by
    /// commas or newlines. Values are never logged.
    static func loadKeys(
        environmentVariables: [String], files: [String], environment: [String: String], network: Network
    ) throws(FacilitatorConfigurationError) -> [PrivateKey] {
        let texts = try readKeyTexts(
            environmentVariables: environmentVariables, files: files, environment: environment, role: "signer key", network: network)
        var keys: [PrivateKey] = []
        for (source, text) in texts {
            for part in keyParts(text) {
                guard let key = try? PrivateKey(hex: part) else { throw .signerKey("\(source) does not hold a valid hex private key") }
                keys.append(key)
            }
        }
        guard !keys.isEmpty else {
            throw .signerKey("no signer key for \(network) (use --signer-key-env NAME or --signer-key-file PATH)")
        }
        return keys
    }

    /// The key texts named by environment variables and files, each with where it came from (for
    /// messages, which never quote the value). A file is read only up to 64 KiB.
    private static func readKeyTexts(
        environmentVariables: [String], files: [String], environment: [String: String], role: String, network: Network
    ) throws(FacilitatorConfigurationError) -> [(source: String, text: String)] {
        var texts: [(source: String, text: String)] = []
        for name in environmentVariables {
            guard let value = environment[name], !value.isEmpty else {
                throw .signerKey("environment variable \(name) (\(role) for \(network)) is not set")
            }
            texts.append(("environment variable \(name)", value))
        }
        for path in files {
            guard let data = FileManager.default.contents(atPath: path), data.count <= 64 * 1024,
                let text = String(data: data, encoding: .utf8)
            else {
                throw .signerKey("cannot read \(role) file \(path)")
            }
            texts.append(("file \(path)", text))
        }
        return texts
    }

    /// The non-empty keys of a text listing several, separated by commas or newlines.
    private static func keyParts(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == "," || $0.isNewline })
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }
}
