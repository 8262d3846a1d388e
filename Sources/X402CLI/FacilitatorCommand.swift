import ArgumentParser
import Foundation
import Logging
import X402
import X402Facilitator

/// `x402 facilitator …`
struct FacilitatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facilitator",
        abstract: "Run an x402 facilitator (verify and settle payments).",
        subcommands: [Serve.self])
}

extension FacilitatorCommand {
    /// `x402 facilitator serve`
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve /verify, /settle, /supported, /health, /metrics and /discovery/resources.",
            discussion: """
                Flags override the configuration file. Signer keys are read from environment variables or \
                files, never from the command line. Example:

                  X402_FACILITATOR_KEY=0x… x402 facilitator serve \\
                      --network eip155:84532=http://127.0.0.1:8545 --signer-key-env X402_FACILITATOR_KEY --port 4020

                EVM and Solana networks can be served by one process (Solana fee payers: base58 keypairs):

                  X402_FACILITATOR_SVM_KEY=… x402 facilitator serve \\
                      --network solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1=http://127.0.0.1:8899 \\
                      --svm-signer-key-env X402_FACILITATOR_SVM_KEY
                """)

        @Option(name: .long, help: "A JSON configuration file.")
        var config: String?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "A served network and its JSON-RPC URL (repeatable); several URLs separated by commas fail over in order; env:NAME reads a URL (with an API key) from that environment variable.",
                valueName: "caip2=url[,url…]"))
        var network: [String] = []

        @Option(name: .long, help: ArgumentHelp("An environment variable holding signer keys (repeatable).", valueName: "name"))
        var signerKeyEnv: [String] = []

        @Option(name: .long, help: ArgumentHelp("A file holding signer keys (repeatable).", valueName: "path"))
        var signerKeyFile: [String] = []

        @Option(
            name: .long,
            help: ArgumentHelp(
                "An environment variable holding Solana fee-payer keypairs, base58 64-byte as wallets export them (repeatable).",
                valueName: "name"))
        var svmSignerKeyEnv: [String] = []

        @Option(
            name: .long,
            help: ArgumentHelp("A Solana fee-payer keypair file: a JSON byte array (solana-keygen) or base58 (repeatable).", valueName: "path"))
        var svmSignerKeyFile: [String] = []

        @OptionGroup var server: ServerOptions<FacilitatorServerDefaults>

        @Option(
            name: .long,
            help: ArgumentHelp("An environment variable holding comma-separated bearer tokens required on /verify and /settle.", valueName: "name"))
        var bearerTokenEnv: String?

        /// The database when neither the file nor `--database` names one (the library's default is memory).
        static let defaultDatabase = "sqlite:x402-facilitator.sqlite"

        /// The library's defaults, read by the help texts.
        private static let defaults = FacilitatorConfiguration()

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Settlement records: sqlite:<path>, a path, postgres://user@host:port/db (password via PGPASSWORD), or memory (default \(Self.defaultDatabase))."
            ))
        var database: String?

        @Option(name: .long, help: ArgumentHelp("Largest accepted /verify or /settle body in bytes (default \(Self.defaults.maxBodyBytes))."))
        var maxBodyBytes: Int?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Seconds /settle waits for a receipt before answering settlement_pending (default \(Self.defaults.receiptTimeoutSeconds))."))
        var receiptTimeout: Int?

        @Flag(
            inversion: .prefixedNo,
            help: ArgumentHelp("Simulate transfers during /verify (default: \(Self.defaults.simulateInVerify ? "on" : "off"))."))
        var simulate: Bool?

        @Flag(
            name: .customLong("coalesce-simulations"), inversion: .prefixedNo,
            help: ArgumentHelp(
                "Simulate EVM verifications arriving together in one Multicall3 eth_call (default: \(Self.defaults.coalesceSimulations ? "on" : "off"))."
            ))
        var coalesceSimulations: Bool?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Milliseconds a simulation waits for others to share its eth_call (default \(Self.defaults.simulationWindowMilliseconds))."))
        var simulationWindowMs: Int?

        @Flag(
            name: .customLong("batch-settlements"), inversion: .prefixedNo,
            help: ArgumentHelp(
                "Send EVM settlements arriving together as one Multicall3 transaction, each answered on its own (default: \(Self.defaults.batchSettlements ? "on" : "off"))."
            ))
        var batchSettlements: Bool?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Milliseconds a settlement waits for others to share its transaction (default \(Self.defaults.settlementBatchWindowMilliseconds))."))
        var settlementBatchWindowMs: Int?

        @Option(name: .long, help: ArgumentHelp("Most payments in one batched settlement (default \(Self.defaults.maxSettlementBatch))."))
        var maxSettlementBatch: Int?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Gas ceiling of a contract-wallet settlement; payments needing more are refused (default \(Self.defaults.maxGasPerSettlement))."))
        var maxGasPerSettlement: UInt64?

        @Option(
            name: .long,
            help: ArgumentHelp("Ceiling on maxFeePerGas in wei; payments are refused above it (default \(Self.wei(Self.defaults.maxFeePerGasWei)))."))
        var maxFeePerGasWei: UInt64?

        @Option(
            name: .long, help: ArgumentHelp("Ceiling on the priority fee (tip) in wei (default \(Self.wei(Self.defaults.maxPriorityFeePerGasWei)))."))
        var maxPriorityFeePerGasWei: UInt64?

        @Option(
            name: .long,
            help: ArgumentHelp("An extra accepted token (repeatable), besides each network's registry stablecoin.", valueName: "caip2=address"))
        var acceptAsset: [String] = []

        @Option(
            name: .long, help: ArgumentHelp("An allowed ERC-6492 wallet factory (repeatable); enables deployment through it.", valueName: "address"))
        var erc6492Factory: [String] = []

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Per-client-address limit on /verify and /settle (burst 0: off; default \(Self.rate(Self.defaults.rateLimitPerClient))).",
                valueName: "burst/perSecond"))
        var rateLimitPerClient: String?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Per-payer limit on /verify and /settle (burst 0: off; default \(Self.rate(Self.defaults.rateLimitPerPayer))).",
                valueName: "burst/perSecond"))
        var rateLimitPerPayer: String?

        @Flag(name: .long, help: "Allow listening on a non-loopback address without bearer tokens (anyone can then spend the facilitator's gas).")
        var insecureNoAuth = false

        /// `200000000000 = 200 gwei`.
        static func wei(_ amount: UInt64) -> String {
            amount % 1_000_000_000 == 0 ? "\(amount) = \(amount / 1_000_000_000) gwei" : "\(amount)"
        }

        /// `120/50`, as `--rate-limit-per-client` takes it.
        static func rate(_ limit: RateLimit) -> String {
            let perSecond = limit.perSecond
            let text = perSecond == perSecond.rounded() && abs(perSecond) < 1e15 ? "\(Int64(perSecond))" : "\(perSecond)"
            return "\(limit.burst)/\(text)"
        }

        static func rate(_ text: String, flag: String) throws -> RateLimit {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let burst = Int(parts[0]), burst >= 0, let perSecond = Double(parts[1]), perSecond.isFinite, perSecond >= 0
            else { throw ValidationError("\(flag) expects <burst>/<perSecond>, got \(text)") }
            return RateLimit(burst: burst, perSecond: perSecond)
        }

        func configuration() throws -> FacilitatorConfiguration {
            var c = try config.map(FacilitatorConfiguration.load(path:)) ?? FacilitatorConfiguration()
            for item in network {
                guard let eq = item.firstIndex(of: "=") else {
                    throw ValidationError("--network expects <caip2>=<rpc-url>, got \(item)")
                }
                let id = String(item[..<eq])
                let url = String(item[item.index(after: eq)...])
                guard let network = Network(id) else {
                    throw ValidationError("\(id) is not a CAIP-2 network id (eip155:<chain id> or solana:<genesis hash>)")
                }
                c.networks.removeAll { $0.network == network }
                // Several endpoints of one chain: `<caip2>=<url>,<fallback-url>,…` (failover in order).
                let urls = url.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                var entry = FacilitatorConfiguration.NetworkEntry(network: network, rpcURL: urls[0])
                if urls.count > 1 { entry.fallbackRPCURLs = Array(urls.dropFirst()) }
                c.networks.append(entry)
            }
            if !signerKeyEnv.isEmpty { c.signerKeyEnv = signerKeyEnv }
            if !signerKeyFile.isEmpty { c.signerKeyFiles = signerKeyFile }
            if !svmSignerKeyEnv.isEmpty { c.svmSignerKeyEnv = svmSignerKeyEnv }
            if !svmSignerKeyFile.isEmpty { c.svmSignerKeyFiles = svmSignerKeyFile }
            server.apply(host: &c.host, port: &c.port, v1: &c.v1)
            if let bearerTokenEnv { c.bearerTokensEnv = bearerTokenEnv }
            if let database { c.database = database }
            if c.database == nil { c.database = Self.defaultDatabase }
            if let maxBodyBytes { c.maxBodyBytes = maxBodyBytes }
            if let receiptTimeout { c.receiptTimeoutSeconds = receiptTimeout }
            if let simulate { c.simulateInVerify = simulate }
            if let coalesceSimulations { c.coalesceSimulations = coalesceSimulations }
            if let simulationWindowMs { c.simulationWindowMilliseconds = simulationWindowMs }
            if let batchSettlements { c.batchSettlements = batchSettlements }
            if let settlementBatchWindowMs { c.settlementBatchWindowMilliseconds = settlementBatchWindowMs }
            if let maxSettlementBatch { c.maxSettlementBatch = maxSettlementBatch }
            if let logLevel = server.logLevel { c.logLevel = logLevel }
            if let maxGasPerSettlement { c.maxGasPerSettlement = maxGasPerSettlement }
            if let maxFeePerGasWei { c.maxFeePerGasWei = maxFeePerGasWei }
            if let maxPriorityFeePerGasWei { c.maxPriorityFeePerGasWei = maxPriorityFeePerGasWei }
            for item in acceptAsset {
                guard let eq = item.firstIndex(of: "=") else { throw ValidationError("--accept-asset expects <caip2>=<address>, got \(item)") }
                c.acceptedAssets[String(item[..<eq]), default: []].append(String(item[item.index(after: eq)...]))
            }
            if !erc6492Factory.isEmpty {
                c.erc6492Factories = erc6492Factory
                c.deployERC6492Wallets = true
            }
            if let rateLimitPerClient { c.rateLimitPerClient = try Self.rate(rateLimitPerClient, flag: "--rate-limit-per-client") }
            if let rateLimitPerPayer { c.rateLimitPerPayer = try Self.rate(rateLimitPerPayer, flag: "--rate-limit-per-payer") }
            if insecureNoAuth { c.insecureNoAuth = true }
            do {
                try c.validate()
            } catch {
                throw ValidationError(error.description)
            }
            return c
        }

        func run() async throws {
            let configuration = try configuration()
            bootstrapStandardErrorLogging(level: configuration.logLevel)
            let logger = Logger(label: "x402.facilitator")
            let service: FacilitatorService
            do {
                service = try await FacilitatorService(
                    configuration: configuration, openStorage: { try await FacilitatorStorage.open($0, logger: logger) }, logger: logger)
            } catch let error as FacilitatorConfigurationError {
                throw ValidationError(error.description)
            }
            logger.info("x402 facilitator listening", metadata: ["host": "\(configuration.host)", "port": "\(configuration.port)"])
            try await service.run()
        }
    }
}
