import Foundation
import X402

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
///       "signerKeyEnv": ["X402_FACILITATOR_KEY"], "signerKeyFiles": [] }
///   ],
///   "signerKeyEnv": ["X402_FACILITATOR_KEY"],
///   "v1": true,
///   "bearerTokensEnv": "X402_FACILITATOR_TOKENS",
///   "database": "sqlite:/var/lib/x402/facilitator.sqlite",
///   "maxBodyBytes": 65536,
///   "simulateInVerify": true,
///   "receiptTimeoutSeconds": 45,
///   "discoveryTTLSeconds": 604800,
///   "logLevel": "info"
/// }
/// ```
public struct FacilitatorConfiguration: Sendable, Equatable, Codable {
    /// One served chain.
    public struct NetworkEntry: Sendable, Equatable, Codable {
        /// CAIP-2 identifier, e.g. `eip155:84532`.
        public var network: String
        /// The JSON-RPC endpoint of a node of that chain.
        public var rpcURL: String
        /// Schemes enabled on this network (default `["exact"]`).
        public var schemes: [String]?
        /// Environment variables holding this network's signer keys (hex; several per variable
        /// may be separated by commas or newlines). Default: the top-level lists.
        public var signerKeyEnv: [String]?
        /// Files holding this network's signer keys.
        public var signerKeyFiles: [String]?

        public init(network: String, rpcURL: String, schemes: [String]? = nil, signerKeyEnv: [String]? = nil, signerKeyFiles: [String]? = nil) {
            self.network = network
            self.rpcURL = rpcURL
            self.schemes = schemes
            self.signerKeyEnv = signerKeyEnv
            self.signerKeyFiles = signerKeyFiles
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
    /// Serve protocol version 1 as well as 2 (default on).
    public var v1: Bool = true
    /// Bearer tokens required on `/verify` and `/settle` (prefer ``bearerTokensEnv``).
    public var bearerTokens: [String] = []
    /// An environment variable holding comma-separated bearer tokens.
    public var bearerTokensEnv: String?
    /// Where settlements are recorded: `sqlite:<path>`, a plain path, `postgres://user@host:port/db`
    /// (shared by several instances; password in the URL or `PGPASSWORD`), or `memory` (nothing
    /// survives a restart). Default: `memory`.
    public var database: String?
    /// The largest accepted `/verify` or `/settle` body (default 64 KiB).
    public var maxBodyBytes: Int = 64 * 1024
    /// Simulate transfers during `/verify` (default on).
    public var simulateInVerify: Bool = true
    /// How long `/settle` waits for a receipt before answering `settlement_pending` (default 45 s).
    public var receiptTimeoutSeconds: Int = 45
    /// Discovery catalog entries not refreshed for this long are dropped (default 7 days).
    public var discoveryTTLSeconds: Int = 7 * 24 * 3600
    /// `trace`, `debug`, `info` (default), `notice`, `warning`, `error`, `critical`.
    public var logLevel: String?

    public init() {}

    private enum Key: String, CodingKey, CaseIterable {
        case host, port, networks, signerKeyEnv, signerKeyFiles, v1, bearerTokens, bearerTokensEnv, database, maxBodyBytes
        case simulateInVerify, receiptTimeoutSeconds, discoveryTTLSeconds, logLevel
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        var d = FacilitatorConfiguration()
        d.host = try c.decodeIfPresent(String.self, forKey: .host) ?? d.host
        d.port = try c.decodeIfPresent(Int.self, forKey: .port) ?? d.port
        d.networks = try c.decodeIfPresent([NetworkEntry].self, forKey: .networks) ?? []
        d.signerKeyEnv = try c.decodeIfPresent([String].self, forKey: .signerKeyEnv) ?? []
        d.signerKeyFiles = try c.decodeIfPresent([String].self, forKey: .signerKeyFiles) ?? []
        d.v1 = try c.decodeIfPresent(Bool.self, forKey: .v1) ?? d.v1
        d.bearerTokens = try c.decodeIfPresent([String].self, forKey: .bearerTokens) ?? []
        d.bearerTokensEnv = try c.decodeIfPresent(String.self, forKey: .bearerTokensEnv)
        d.database = try c.decodeIfPresent(String.self, forKey: .database)
        d.maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? d.maxBodyBytes
        d.simulateInVerify = try c.decodeIfPresent(Bool.self, forKey: .simulateInVerify) ?? d.simulateInVerify
        d.receiptTimeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .receiptTimeoutSeconds) ?? d.receiptTimeoutSeconds
        d.discoveryTTLSeconds = try c.decodeIfPresent(Int.self, forKey: .discoveryTTLSeconds) ?? d.discoveryTTLSeconds
        d.logLevel = try c.decodeIfPresent(String.self, forKey: .logLevel)
        self = d
    }

    /// Reads a configuration file.
    public static func load(path: String) throws -> FacilitatorConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FacilitatorConfigurationError("cannot read configuration file \(path)")
        }
        do {
            return try JSONDecoder().decode(FacilitatorConfiguration.self, from: data)
        } catch {
            throw FacilitatorConfigurationError("configuration file \(path) is invalid: \(error)")
        }
    }

    /// Checks values that would otherwise fail later (bad networks, ports, limits).
    public func validate() throws(FacilitatorConfigurationError) {
        guard (0...65535).contains(port) else { throw FacilitatorConfigurationError("port \(port) is out of range") }
        guard maxBodyBytes >= 1024 else { throw FacilitatorConfigurationError("maxBodyBytes must be at least 1024") }
        guard receiptTimeoutSeconds > 0 else { throw FacilitatorConfigurationError("receiptTimeoutSeconds must be positive") }
        if networks.isEmpty { throw FacilitatorConfigurationError("no network configured (use --network eip155:<chain>=<rpc-url>)") }
        var seen: Set<String> = []
        for entry in networks {
            guard let network = Network(entry.network), network.chainID != nil else {
                throw FacilitatorConfigurationError("\(entry.network) is not an eip155:<chain id> network (only EVM networks are served so far)")
            }
            guard seen.insert(network.identifier).inserted else { throw FacilitatorConfigurationError("\(entry.network) is configured twice") }
            guard let url = URL(string: entry.rpcURL), url.scheme == "http" || url.scheme == "https" else {
                throw FacilitatorConfigurationError("the RPC URL of \(entry.network) is not an http(s) URL")
            }
            for scheme in entry.schemes ?? ["exact"] where scheme != "exact" {
                throw FacilitatorConfigurationError("scheme \"\(scheme)\" on \(entry.network) is not available (available: exact)")
            }
        }
    }

    /// The bearer tokens in force: the listed ones plus those in ``bearerTokensEnv``.
    public func resolvedBearerTokens(environment: [String: String]) -> [String] {
        var tokens = bearerTokens
        if let name = bearerTokensEnv, let value = environment[name] {
            tokens += value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return tokens
    }
}

/// A configuration problem, stated for the operator.
public struct FacilitatorConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
