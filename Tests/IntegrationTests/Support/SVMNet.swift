// The local Solana chain (Tools/svmnet, LiteSVM behind a JSON-RPC server) as seen by integration tests.
//
// Usage:
//
//     @Suite(.svmnet) struct MySolanaTests {
//         @Test func pays() async throws {
//             let net = try await SVMNet.shared()            // fails with a clear message in CI if not running
//             let payer = try await net.freshPayer(usdc: 5_000_000)
//             …
//         }
//     }
//
// Environment:
//   X402_SVMNET_URL    the node (default: `rpcUrl` of the state file, else http://127.0.0.1:8899)
//   X402_SVMNET_STATE  the state JSON written by Tools/svmnet/start.sh (default <repo>/.svmnet-run/svmnet.json);
//                      when unset the state comes from the node itself (`svmnet_state`)
//   CI                 when set, an unreachable chain FAILS the tests instead of skipping them
//
// Tests share one chain and run in parallel: pay from `freshPayer(...)` keys and to `freshWallet(...)`
// recipients so that balance deltas are exact.

import Foundation
import Testing
import X402
import X402EVMRPC
import X402Solana
import X402SolanaRPC
import X402TestSupport

struct SVMNetUnavailable: Error, CustomStringConvertible {
    let description: String
}

/// The running svmnet: RPC client, mints, fee payers and helpers.
struct SVMNet: Sendable {
    let url: String
    let rpc: SolanaJSONRPCClient
    /// `solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1` (the chain presents itself as Solana devnet).
    let network: Network
    /// The USDC-like mint under SPL Token (at devnet USDC's address, 6 decimals).
    let usdc: SolanaPublicKey
    /// A USDC-like mint under Token-2022 (6 decimals).
    let usdcToken2022: SolanaPublicKey
    /// Funded fee-payer keypairs (shared: facilitators only co-sign and pay fees).
    let feePayers: [SolanaKeypair]
    /// The base58 keypair texts of ``feePayers`` (as a facilitator reads them from its environment).
    let feePayerSecrets: [String]

    static func shared() async throws(SVMNetUnavailable) -> SVMNet {
        try await loading.value.get()
    }

    static func shouldRun() async -> Bool {
        if TestEnvironment.isCI { return true }
        return (try? await shared()) != nil
    }

    static var configuredURL: String {
        if let url = ProcessInfo.processInfo.environment["X402_SVMNET_URL"], !url.isEmpty { return url }
        return "http://127.0.0.1:8899"
    }

    static var unavailableMessage: String {
        "svmnet not running at \(configuredURL) — start it with Tools/svmnet/start.sh and set X402_SVMNET_URL"
    }

    private static let loading = Task<Result<SVMNet, SVMNetUnavailable>, Never> {
        do {
            return .success(try await load())
        } catch let error as SVMNetUnavailable {
            return .failure(error)
        } catch {
            return .failure(SVMNetUnavailable(description: "\(unavailableMessage) (\(error))"))
        }
    }

    private static func load() async throws -> SVMNet {
        let url = configuredURL
        let probe = SolanaJSONRPCClient(configuration: .init(url: url, timeout: .seconds(3), maxRetries: 0))
        let state: JSONValue
        do {
            _ = try await probe.genesisHash()
            if let path = ProcessInfo.processInfo.environment["X402_SVMNET_STATE"], !path.isEmpty,
                let data = FileManager.default.contents(atPath: path)
            {
                state = try JSONValue(parsing: [UInt8](data))
            } else {
                state = try await probe.request(method: "svmnet_state", params: [])
            }
        } catch {
            throw SVMNetUnavailable(description: "\(unavailableMessage) (\(error))")
        }
        let rpc = SolanaJSONRPCClient(configuration: .init(url: url, timeout: .seconds(20), maxRetries: 2, backoffBase: .milliseconds(50)))
        func key(_ value: JSONValue?, _ what: String) throws -> SolanaPublicKey {
            guard let text = value?.stringValue else { throw SVMNetUnavailable(description: "svmnet state lacks \(what)") }
            return try SolanaPublicKey(base58: text)
        }
        guard let network = state["network"]?.stringValue.flatMap({ Network($0) }) else {
            throw SVMNetUnavailable(description: "svmnet state lacks network")
        }
        let secrets = (state["facilitators"]?.arrayValue ?? []).compactMap { $0["secretKey"]?.stringValue }
        let feePayers = try secrets.map { try SolanaKeypair(text: $0) }
        guard !feePayers.isEmpty else { throw SVMNetUnavailable(description: "svmnet state has no facilitators") }
        return SVMNet(
            url: url, rpc: rpc, network: network, usdc: try key(state["mints"]?["usdc"]?["address"], "mints.usdc"),
            usdcToken2022: try key(state["mints"]?["usdcToken2022"]?["address"], "mints.usdcToken2022"),
            feePayers: feePayers, feePayerSecrets: secrets)
    }

    // MARK: Helpers

    /// A new keypair with `sol` lamports and `usdc` atomic units in its ATA of each mint in `mints`.
    func freshPayer(usdc amount: UInt64, mints: [SolanaPublicKey]? = nil, lamports: UInt64 = 1_000_000_000) async throws -> SolanaKeypair {
        let keypair = try SolanaKeypair(seed: (0..<32).map { _ in UInt8.random(in: .min ... .max) })
        _ = try await rpc.request(method: "svmnet_setLamports", params: [.string(keypair.publicKey.base58), .number(JSONNumber(lamports))])
        for mint in mints ?? [usdc, usdcToken2022] {
            _ = try await rpc.request(
                method: "svmnet_createTokenAccount", params: [.string(keypair.publicKey.base58), .string(mint.base58), .string(String(amount))])
        }
        return keypair
    }

    /// A new recipient wallet (no SOL) with an empty ATA of each mint in `mints`.
    func freshWallet(mints: [SolanaPublicKey]? = nil) async throws -> SolanaPublicKey {
        let keypair = try SolanaKeypair(seed: (0..<32).map { _ in UInt8.random(in: .min ... .max) })
        for mint in mints ?? [usdc, usdcToken2022] {
            _ = try await rpc.request(
                method: "svmnet_createTokenAccount", params: [.string(keypair.publicKey.base58), .string(mint.base58), "0"])
        }
        return keypair.publicKey
    }

    /// The token balance of `owner`'s ATA for `mint` (0 when it does not exist).
    func tokenBalance(of owner: SolanaPublicKey, mint: SolanaPublicKey) async throws -> UInt64 {
        let program: SolanaPublicKey = mint == usdcToken2022 ? .token2022Program : .tokenProgram
        let ata = ProgramDerivedAddress.associatedTokenAddress(owner: owner, mint: mint, tokenProgram: program).address
        return try await rpc.tokenAccountBalance(ata.base58, commitment: .confirmed)?.amount ?? 0
    }

    /// The token program owning `mint`.
    func tokenProgram(of mint: SolanaPublicKey) -> SolanaPublicKey {
        mint == usdcToken2022 ? .token2022Program : .tokenProgram
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test or suite when svmnet answers; in CI (`CI` set) it runs and fails loudly when it does not.
    static var svmnet: Self {
        .enabled(Comment(rawValue: SVMNet.unavailableMessage)) { await SVMNet.shouldRun() }
    }
}
