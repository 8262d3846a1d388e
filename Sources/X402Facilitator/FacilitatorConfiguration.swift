import Foundation
public import X402
import X402EVM

/// Everything an operator configures, from a JSON file and/or command-line flags.
///
/// Secrets never travel on the command line: signer keys are named by environment variable or
/// file, and bearer tokens may come from an environment variable. Every member is optional in
/// the file; see `docs`/the CLI help for the format:
///
/// ```json
/// {
///   "host": "0.0.0.0", "port": 4020,
///   "networks": [
///     { "network": "eip155:84532", "rpcURL": "http://127.0.0.1:8545", "schemes": ["exact"],
///       "fallbackRPCURLs": ["http://127.0.0.1:8546"],
///       "signerKeyEnv": ["X402_FACILITATOR_KEY"], "signerKeyFiles": [] }
///   ],
///   "signerKeyEnv": ["X402_FACILITATOR_KEY"],
///   "svmSignerKeyEnv": ["X402_FACILITATOR_SVM_KEY"], "svmSignerKeyFiles": [],
///   "v1": true,
///   "bearerTokensEnv": "X402_FACILITATOR_TOKENS",
///   "database": "sqlite:/var/lib/x402/facilitator.sqlite",
///   "maxBodyBytes": 65536,
///   "simulateInVerify": true,
///   "coalesceSimulations": true, "simulationWindowMilliseconds": 2, "maxSimulationBatch": 32,
///   "batchSettlements": false, "settlementBatchWindowMilliseconds": 50, "maxSettlementBatch": 32,
///   "receiptTimeoutSeconds": 45, "replaceStuckAfterSeconds": 60,
///   "discoveryTTLSeconds": 604800,
///   "logLevel": "info",
///   "maxGasPerSettlement": 250000,
///   "maxFeePerGasWei": 200000000000, "maxPriorityFeePerGasWei": 5000000000,
///   "acceptedAssets": { "eip155:84532": ["0x…"] },
///   "deployERC6492Wallets": false, "erc6492Factories": [],
///   "rateLimitPerClient": { "burst": 120, "perSecond": 50 },
///   "rateLimitPerPayer": { "burst": 20, "perSecond": 2 },
///   "insecureNoAuth": false
/// }
/// ```
///
/// A non-loopback `host` needs bearer tokens unless `insecureNoAuth` is set: an open `/settle`
/// lets anyone spend the facilitator's gas.
public struct FacilitatorConfiguration: Sendable, Equatable, Codable {
    /// One served chain.
    public struct NetworkEntry: Sendable, Equatable, Codable {
        /// The served network, e.g. `eip155:84532` or `solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1`.
        public var network: Network
        /// The JSON-RPC endpoint of a node of that chain.
        public var rpcURL: String
        /// Schemes enabled on this network (default `["exact"]`).
        public var schemes: [String]?
        /// Environment variables holding this network's signer keys (EVM: hex; Solana: base58 64-byte
        /// keypairs; several per variable may be separated by commas or newlines). Default: the
        /// top-level lists of the network's family.
        public var signerKeyEnv: [String]?
        /// Files holding this network's signer keys (Solana: also a JSON byte-array keypair file).
        public var signerKeyFiles: [String]?
        /// Further JSON-RPC endpoints of the same chain, used in this order when ``rpcURL`` (and
        /// the ones before) time out, fail or report another chain id; a failed node is taken out
        /// of service for 30 s and checked again before it serves.
        public var fallbackRPCURLs: [String]?

        public init(network: Network, rpcURL: String, schemes: [String]? = nil, signerKeyEnv: [String]? = nil, signerKeyFiles: [String]? = nil) {
            self.network = network
            self.rpcURL = rpcURL
            self.schemes = schemes
            self.signerKeyEnv = signerKeyEnv
            self.signerKeyFiles = signerKeyFiles
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case network, rpcURL, schemes, signerKeyEnv, signerKeyFiles
            case fallbackRPCURLs
        }
    }

    /// Listen address (default `127.0.0.1`).
    public var host: String = "127.0.0.1"
    /// Listen port (default 4020; 0 picks a free port).
    public var port: Int = 4020
    public var networks: [NetworkEntry] = []
    /// Default signer-key environment variables for networks that name none.
    public var signerKeyEnv: [String] = []
    /// Default signer-key files for networks that name none.
    public var signerKeyFiles: [String] = []
    /// Default fee-payer key variables for Solana networks that name none (base58 64-byte keypairs,
    /// as Solana wallets export them; several separated by commas or newlines).
    public var svmSignerKeyEnv: [String] = []
    /// Default fee-payer key files for Solana networks that name none (a JSON byte-array keypair, as
    /// `solana-keygen` writes it, or base58 keypairs).
    public var svmSignerKeyFiles: [String] = []
    /// Serve protocol version 1 as well as 2 (default on).
    public var v1: Bool = true
    /// Bearer tokens required on `/verify` and `/settle` (prefer ``bearerTokensEnv``).
    public var bearerTokens: [String] = []
    /// An environment variable holding comma-separated bearer tokens.
    public var bearerTokensEnv: String?
    /// Where settlements are recorded (see `StoreLocation`): `sqlite:<path>`, a plain path,
    /// `postgres://user@host:port/db` (shared by several instances; password in the URL or
    /// `PGPASSWORD`), or `memory` (nothing survives a restart). Default: `memory`.
    public var database: String?
    /// The largest accepted `/verify` or `/settle` body (default 64 KiB).
    public var maxBodyBytes: Int = 64 * 1024
    /// Simulate transfers during `/verify` (default on).
    public var simulateInVerify: Bool = true
    /// Simulate EVM verifications that arrive together in one Multicall3 `eth_call` (default on;
    /// each payment still gets the answer it would have had alone).
    public var coalesceSimulations: Bool = true
    /// How long a simulation waits for others to share its `eth_call`, in milliseconds (default 2):
    /// a lone verification is never delayed by more.
    public var simulationWindowMilliseconds: Int = 2
    /// The most transfers simulated in one `eth_call` (default 32).
    public var maxSimulationBatch: Int = 32
    /// Send EVM settlements that arrive together as one Multicall3 transaction (default off). Each
    /// payment still gets its own truthful answer, with the shared transaction hash.
    public var batchSettlements: Bool = false
    /// How long a settlement waits for others to share its transaction, in milliseconds (default
    /// 50): a lone settlement is never delayed by more.
    public var settlementBatchWindowMilliseconds: Int = 50
    /// The most transfers in one batched settlement transaction (default 32).
    public var maxSettlementBatch: Int = 32
    /// How long `/settle` waits for a receipt before answering `settlement_pending` (default 45 s).
    public var receiptTimeoutSeconds: Int = 45
    /// A settlement transaction still unmined this long after it was sent is replaced with a fee
    /// bump (same nonce, fees raised by an eighth within the caps) when its owner settles again
    /// (default 60 s; 0: never).
    public var replaceStuckAfterSeconds: Int = 60
    /// Discovery catalog entries not refreshed for this long are dropped (default 7 days).
    public var discoveryTTLSeconds: Int = 7 * 24 * 3600
    /// `trace`, `debug`, `info` (default), `notice`, `warning`, `error`, `critical`.
    public var logLevel: String?
    /// Gas ceiling of a contract-wallet (ERC-1271 / ERC-6492) transfer; a payment needing more is
    /// refused at verify with `gas_limit_exceeded` (default 250 000; EOA transfers use a fixed 120 000).
    public var maxGasPerSettlement: UInt64 = 250_000
    /// Ceiling on `maxFeePerGas`, in wei (default 200 gwei); above it payments are refused with
    /// `fee_above_cap` and nothing is sent.
    public var maxFeePerGasWei: UInt64 = 200_000_000_000
    /// Ceiling on the priority fee (tip), in wei (default 5 gwei): a higher node suggestion is lowered.
    public var maxPriorityFeePerGasWei: UInt64 = 5_000_000_000
    /// Tokens accepted per network (CAIP-2 → addresses) besides each network's registry stablecoin.
    public var acceptedAssets: [String: [String]] = [:]
    /// Deploy undeployed ERC-6492 wallets (default off); only through ``erc6492Factories``.
    public var deployERC6492Wallets: Bool = false
    /// The factories ERC-6492 wallets may be deployed through (default none: fail closed).
    public var erc6492Factories: [String] = []
    /// Token bucket per client address on `/verify` and `/settle` (burst 0 turns it off).
    public var rateLimitPerClient: RateLimit = FacilitatorRoutes.Options.defaultClientRate
    /// Token bucket per payer on `/verify` and `/settle` (burst 0 turns it off).
    public var rateLimitPerPayer: RateLimit = FacilitatorRoutes.Options.defaultPayerRate
    /// Allow a non-loopback `host` without bearer tokens (default off; not recommended).
    public var insecureNoAuth: Bool = false

    public init() {}

    enum Key: String, CodingKey, CaseIterable {
        case host, port, networks, signerKeyEnv, signerKeyFiles, svmSignerKeyEnv, svmSignerKeyFiles, v1, bearerTokens, bearerTokensEnv, database,
            maxBodyBytes
        case simulateInVerify, receiptTimeoutSeconds, replaceStuckAfterSeconds, discoveryTTLSeconds, logLevel
        case coalesceSimulations, simulationWindowMilliseconds, maxSimulationBatch
        case batchSettlements, settlementBatchWindowMilliseconds, maxSettlementBatch
        case maxGasPerSettlement, maxFeePerGasWei, maxPriorityFeePerGasWei, acceptedAssets, deployERC6492Wallets, erc6492Factories
        case rateLimitPerClient, rateLimitPerPayer, insecureNoAuth
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        var d = FacilitatorConfiguration()
        d.host = try c.decodeIfPresent(String.self, forKey: .host) ?? d.host
        d.port = try c.decodeIfPresent(Int.self, forKey: .port) ?? d.port
        d.networks = try c.decodeIfPresent([NetworkEntry].self, forKey: .networks) ?? d.networks
        d.signerKeyEnv = try c.decodeIfPresent([String].self, forKey: .signerKeyEnv) ?? d.signerKeyEnv
        d.signerKeyFiles = try c.decodeIfPresent([String].self, forKey: .signerKeyFiles) ?? d.signerKeyFiles
        d.svmSignerKeyEnv = try c.decodeIfPresent([String].self, forKey: .svmSignerKeyEnv) ?? d.svmSignerKeyEnv
        d.svmSignerKeyFiles = try c.decodeIfPresent([String].self, forKey: .svmSignerKeyFiles) ?? d.svmSignerKeyFiles
        d.v1 = try c.decodeIfPresent(Bool.self, forKey: .v1) ?? d.v1
        d.bearerTokens = try c.decodeIfPresent([String].self, forKey: .bearerTokens) ?? d.bearerTokens
        d.bearerTokensEnv = try c.decodeIfPresent(String.self, forKey: .bearerTokensEnv)
        d.database = try c.decodeIfPresent(String.self, forKey: .database)
        d.maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? d.maxBodyBytes
        d.simulateInVerify = try c.decodeIfPresent(Bool.self, forKey: .simulateInVerify) ?? d.simulateInVerify
        d.receiptTimeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .receiptTimeoutSeconds) ?? d.receiptTimeoutSeconds
        d.replaceStuckAfterSeconds = try c.decodeIfPresent(Int.self, forKey: .replaceStuckAfterSeconds) ?? d.replaceStuckAfterSeconds
        d.coalesceSimulations = try c.decodeIfPresent(Bool.self, forKey: .coalesceSimulations) ?? d.coalesceSimulations
        d.simulationWindowMilliseconds =
            try c.decodeIfPresent(Int.self, forKey: .simulationWindowMilliseconds) ?? d.simulationWindowMilliseconds
        d.maxSimulationBatch = try c.decodeIfPresent(Int.self, forKey: .maxSimulationBatch) ?? d.maxSimulationBatch
        d.batchSettlements = try c.decodeIfPresent(Bool.self, forKey: .batchSettlements) ?? d.batchSettlements
        d.settlementBatchWindowMilliseconds =
            try c.decodeIfPresent(Int.self, forKey: .settlementBatchWindowMilliseconds) ?? d.settlementBatchWindowMilliseconds
        d.maxSettlementBatch = try c.decodeIfPresent(Int.self, forKey: .maxSettlementBatch) ?? d.maxSettlementBatch
        d.discoveryTTLSeconds = try c.decodeIfPresent(Int.self, forKey: .discoveryTTLSeconds) ?? d.discoveryTTLSeconds
        d.logLevel = try c.decodeIfPresent(String.self, forKey: .logLevel)
        d.maxGasPerSettlement = try c.decodeIfPresent(UInt64.self, forKey: .maxGasPerSettlement) ?? d.maxGasPerSettlement
        d.maxFeePerGasWei = try c.decodeIfPresent(UInt64.self, forKey: .maxFeePerGasWei) ?? d.maxFeePerGasWei
        d.maxPriorityFeePerGasWei = try c.decodeIfPresent(UInt64.self, forKey: .maxPriorityFeePerGasWei) ?? d.maxPriorityFeePerGasWei
        d.acceptedAssets = try c.decodeIfPresent([String: [String]].self, forKey: .acceptedAssets) ?? d.acceptedAssets
        d.deployERC6492Wallets = try c.decodeIfPresent(Bool.self, forKey: .deployERC6492Wallets) ?? d.deployERC6492Wallets
        d.erc6492Factories = try c.decodeIfPresent([String].self, forKey: .erc6492Factories) ?? d.erc6492Factories
        d.rateLimitPerClient = try c.decodeIfPresent(RateLimit.self, forKey: .rateLimitPerClient) ?? d.rateLimitPerClient
        d.rateLimitPerPayer = try c.decodeIfPresent(RateLimit.self, forKey: .rateLimitPerPayer) ?? d.rateLimitPerPayer
        d.insecureNoAuth = try c.decodeIfPresent(Bool.self, forKey: .insecureNoAuth) ?? d.insecureNoAuth
        self = d
    }

    /// The members a configuration file may hold; anything else is refused with its key path.
    static let schema: ConfigurationSchema = {
        var members: [String: ConfigurationSchema] = [:]
        for key in Key.allCases { members[key.rawValue] = .value }
        members[Key.networks.rawValue] = .array(
            .object(Dictionary(uniqueKeysWithValues: NetworkEntry.CodingKeys.allCases.map { ($0.rawValue, ConfigurationSchema.value) })))
        members[Key.acceptedAssets.rawValue] = .map(.value)
        let rate = ConfigurationSchema.object(["burst": .value, "perSecond": .value])
        members[Key.rateLimitPerClient.rawValue] = rate
        members[Key.rateLimitPerPayer.rawValue] = rate
        return .object(members)
    }()

    /// Parses a JSON configuration.
    ///
    /// Unknown members are errors naming their key path (`networks[0].recieptTimeoutSeconds`): a
    /// typo must not silently drop a setting. Missing members keep their defaults.
    /// - Parameter bytes: The file's bytes.
    /// - Returns: The configuration, not yet validated (see ``validate()``).
    /// - Throws: ``FacilitatorConfigurationError/invalidFile(_:)`` naming the offending key path.
    public static func parse(_ bytes: [UInt8]) throws(FacilitatorConfigurationError) -> FacilitatorConfiguration {
        let tree: JSONValue
        do { tree = try JSONValue(parsing: bytes) } catch { throw .invalidFile("not JSON: \(error)") }
        guard tree.objectValue != nil else { throw .invalidFile("the top level must be an object") }
        if let unknown = schema.unknownMember(in: tree) { throw .invalidFile("unknown member \"\(unknown)\"") }
        do {
            return try JSONDecoder().decode(FacilitatorConfiguration.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw .invalidFile(ConfigurationSchema.describe(error))
        } catch {
            throw .invalidFile("\(error)")
        }
    }

    /// Reads and parses a JSON configuration file (see ``parse(_:)``).
    /// - Parameter path: The file.
    /// - Returns: The configuration, not yet validated.
    /// - Throws: ``FacilitatorConfigurationError/unreadableFile(_:)``, or ``FacilitatorConfigurationError/invalidFile(_:)`` naming the file and the key path.
    public static func load(path: String) throws(FacilitatorConfigurationError) -> FacilitatorConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadableFile(path) }
        do {
            return try parse(Array(data))
        } catch .invalidFile(let why) {
            throw .invalidFile("\(path): \(why)")
        }
    }

    /// ``database``, parsed (see `StoreLocation` for the accepted forms); `nil` is `StoreLocation/memory`.
    /// - Returns: Where settlements and the discovery catalog are kept.
    /// - Throws: ``FacilitatorConfigurationError`` when `database` is not a location.
    public func databaseLocation() throws(FacilitatorConfigurationError) -> StoreLocation {
        guard let database else { return .memory }
        do {
            return try StoreLocation(parsing: database)
        } catch {
            throw .invalidValue("database", error.description)
        }
    }

    /// Checks values that would otherwise fail later (bad networks, ports, limits).
    public func validate() throws(FacilitatorConfigurationError) {
        _ = try databaseLocation()
        guard (0...65535).contains(port) else { throw .invalidValue("port", "\(port) is out of range") }
        guard maxBodyBytes >= 1024 else { throw .invalidValue("maxBodyBytes", "must be at least 1024") }
        guard receiptTimeoutSeconds > 0 else { throw .invalidValue("receiptTimeoutSeconds", "must be positive") }
        guard replaceStuckAfterSeconds >= 0 else { throw .invalidValue("replaceStuckAfterSeconds", "must be 0 (never) or positive") }
        guard (0...1000).contains(simulationWindowMilliseconds) else {
            throw .invalidValue("simulationWindowMilliseconds", "must be between 0 and 1000")
        }
        guard (1...32).contains(maxSimulationBatch) else { throw .invalidValue("maxSimulationBatch", "must be between 1 and 32") }
        guard (0...5000).contains(settlementBatchWindowMilliseconds) else {
            throw .invalidValue("settlementBatchWindowMilliseconds", "must be between 0 and 5000")
        }
        guard (1...32).contains(maxSettlementBatch) else { throw .invalidValue("maxSettlementBatch", "must be between 1 and 32") }
        if networks.isEmpty { throw .missing("network (use --network eip155:<chain>=<rpc-url> or solana:<genesis>=<rpc-url>)") }
        var seen: Set<Network> = []
        for (index, entry) in networks.enumerated() {
            let path = "networks[\(index)]"
            guard entry.network.chainID != nil || Self.isSolanaCluster(entry.network) else {
                throw .invalidValue(
                    "\(path).network", "\(entry.network) is neither an eip155:<chain id> nor a solana:<genesis hash> network")
            }
            guard seen.insert(entry.network).inserted else { throw .invalidValue("\(path).network", "\(entry.network) is configured twice") }
            guard Self.isRPCEndpoint(entry.rpcURL) else {
                throw .invalidValue("\(path).rpcURL", "the RPC URL of \(entry.network) is neither an http(s) URL nor env:NAME")
            }
            for (position, fallback) in (entry.fallbackRPCURLs ?? []).enumerated() {
                guard Self.isRPCEndpoint(fallback) else {
                    throw .invalidValue(
                        "\(path).fallbackRPCURLs[\(position)]", "a fallback RPC URL of \(entry.network) is neither an http(s) URL nor env:NAME")
                }
            }
            for scheme in entry.schemes ?? ["exact"] where scheme != "exact" {
                throw .invalidValue("\(path).schemes", "scheme \"\(scheme)\" on \(entry.network) is not available (available: exact)")
            }
        }
        guard maxGasPerSettlement >= 21_000, maxGasPerSettlement <= 30_000_000 else {
            throw .invalidValue("maxGasPerSettlement", "must be between 21000 and 30000000")
        }
        guard maxFeePerGasWei > 0 else { throw .invalidValue("maxFeePerGasWei", "must be positive") }
        guard maxPriorityFeePerGasWei <= maxFeePerGasWei else {
            throw .invalidValue("maxPriorityFeePerGasWei", "must not exceed maxFeePerGasWei")
        }
        for (network, addresses) in acceptedAssets {
            guard Network(network)?.chainID != nil else { throw .invalidValue("acceptedAssets", "\(network) is not an eip155 network") }
            for address in addresses where (try? EthereumAddress(address, validatingChecksum: false)) == nil {
                throw .invalidValue("acceptedAssets.\(network)", "\(address) is not an address")
            }
        }
        for address in erc6492Factories where (try? EthereumAddress(address, validatingChecksum: false)) == nil {
            throw .invalidValue("erc6492Factories", "\(address) is not an address")
        }
        for (name, rate) in [("rateLimitPerClient", rateLimitPerClient), ("rateLimitPerPayer", rateLimitPerPayer)] {
            guard rate.burst >= 0, rate.perSecond.isFinite, rate.perSecond >= 0 else {
                throw .invalidValue(name, "needs a burst ≥ 0 and a finite perSecond ≥ 0")
            }
        }
    }

    /// `solana:` followed by the first 32 base58 characters of a genesis hash (CAIP-2 for Solana).
    static func isSolanaCluster(_ network: Network) -> Bool {
        network.isSolana && network.reference.utf8.count == 32 && Base58.isAlphabetText(network.reference)
    }

    /// Refuses to serve a non-loopback address without bearer tokens (an open `/settle` spends
    /// the facilitator's gas for anyone) unless ``insecureNoAuth`` is set.
    public func validateExposure(bearerTokens: [String]) throws(FacilitatorConfigurationError) {
        guard bearerTokens.isEmpty, !insecureNoAuth, !Self.isLoopback(host) else { return }
        throw .exposedWithoutAuthentication(host: host)
    }

    /// `localhost`, `127.0.0.0/8` and `::1`.
    public static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if h == "localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { part in UInt8(part) != nil }
    }

    /// The bearer tokens in force: the listed ones plus those in ``bearerTokensEnv``.
    public func resolvedBearerTokens(environment: [String: String]) -> [String] {
        var tokens = bearerTokens
        if let name = bearerTokensEnv, let value = environment[name] {
            tokens += value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return tokens
    }

    /// The RPC URLs of the network at `index` (``NetworkEntry/rpcURL`` first, then the fallbacks),
    /// each `env:NAME` replaced by the value of that environment variable: a URL holding a
    /// provider's API key need not appear on the command line (visible to every user in `ps`) or
    /// in the configuration file. Values are never logged or quoted in errors.
    ///
    /// - Throws: ``FacilitatorConfigurationError/invalidValue(_:_:)`` when a named variable is
    ///   unset or does not hold an http(s) URL.
    public func resolvedRPCURLs(ofNetworkAt index: Int, environment: [String: String]) throws(FacilitatorConfigurationError) -> [String] {
        let entry = networks[index]
        let configured =
            [("networks[\(index)].rpcURL", entry.rpcURL)]
            + (entry.fallbackRPCURLs ?? []).enumerated().map { ("networks[\(index)].fallbackRPCURLs[\($0.offset)]", $0.element) }
        var urls: [String] = []
        for (path, text) in configured {
            guard text.hasPrefix(Self.environmentPrefix) else {
                urls.append(text)
                continue
            }
            let name = String(text.dropFirst(Self.environmentPrefix.count))
            guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
                throw .invalidValue(path, "environment variable \(name) (an RPC URL of \(entry.network)) is not set")
            }
            guard Self.isHTTPURL(value) else {
                throw .invalidValue(path, "environment variable \(name) does not hold an http(s) URL")
            }
            urls.append(value)
        }
        return urls
    }

    /// How an RPC URL names an environment variable instead: `env:NAME`.
    static let environmentPrefix = "env:"

    /// An http(s) URL, or `env:NAME` with a portable variable name.
    static func isRPCEndpoint(_ text: String) -> Bool {
        guard text.hasPrefix(environmentPrefix) else { return isHTTPURL(text) }
        let name = text.utf8.dropFirst(environmentPrefix.utf8.count)
        return !name.isEmpty && name.count <= 128 && name.first.map { !(0x30...0x39).contains($0) } == true
            && name.allSatisfy { $0 == 0x5F || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
    }

    static func isHTTPURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), url.host != nil else { return false }
        return scheme == "http" || scheme == "https"
    }
}

/// A configuration problem, named precisely enough to fix (the same style as the gateway's
/// `GatewayConfigurationError`).
public enum FacilitatorConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A required setting is missing.
    case missing(String)
    /// A setting is refused: its key path (`networks[0].rpcURL`) and why.
    case invalidValue(String, String)
    /// The configuration file cannot be read.
    case unreadableFile(String)
    /// The configuration file is not a configuration (the reason names the file and the key path).
    case invalidFile(String)
    /// A signer key cannot be loaded (names the variable or file, never a value).
    case signerKey(String)
    /// A non-loopback `host` without bearer tokens and without `insecureNoAuth`.
    case exposedWithoutAuthentication(host: String)
    /// The database cannot be opened.
    case database(String)

    public var description: String {
        switch self {
        case .missing(let what): "missing \(what)"
        case .invalidValue(let path, let why): "\(path): \(why)"
        case .unreadableFile(let path): "cannot read configuration file \(path)"
        case .invalidFile(let why): "invalid configuration file: \(why)"
        case .signerKey(let why): why
        case .exposedWithoutAuthentication(let host):
            "refusing to listen on \(host) without bearer tokens: set bearerTokensEnv (--bearer-token-env), "
                + "listen on 127.0.0.1, or accept the risk with insecureNoAuth (--insecure-no-auth)"
        case .database(let why): "database: \(why)"
        }
    }
}
