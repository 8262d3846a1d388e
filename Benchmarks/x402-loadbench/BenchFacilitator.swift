// The Swift facilitator as the load benchmarks run it: the devnet's network and facilitator key,
// memory stores, the per-client and per-payer abuse limits off (the load comes from a few payers
// on one address). Shared by `verify`, `settle` and `serve`.

import Foundation
import Hummingbird
import Logging
import X402
import X402EVM
import X402Facilitator

enum BenchFacilitator {
    /// The environment variable the facilitator's key is handed over in (never on argv).
    static let keyVariable = "X402_LOADBENCH_FACILITATOR_KEY"

    /// The configuration every benchmark starts from, listening on `port` (0: any free port).
    static func configuration(_ state: DevnetState, port: Int = 0) -> FacilitatorConfiguration {
        var configuration = FacilitatorConfiguration()
        configuration.port = port
        configuration.networks = [.init(network: state.network, rpcURL: state.rpcURL)]
        configuration.signerKeyEnv = [keyVariable]
        configuration.database = "memory"
        configuration.rateLimitPerPayer = RateLimit(burst: 0, perSecond: 0)
        configuration.rateLimitPerClient = RateLimit(burst: 0, perSecond: 0)
        return configuration
    }

    /// The service for `configuration`, with the devnet's facilitator key, logging warnings only.
    static func service(_ configuration: FacilitatorConfiguration, state: DevnetState) async throws -> FacilitatorService {
        var logger = Logger(label: "x402.loadbench.facilitator")
        logger.logLevel = .warning
        return try await FacilitatorService(
            configuration: configuration,
            environment: [keyVariable: state.facilitatorKey.withUnsafeSecretBytes { Hex.encode($0) }], logger: logger)
    }

    /// Runs `service` in this process; returns its task and base URL once it listens.
    static func runInProcess(_ service: FacilitatorService) async -> (server: Task<Void, any Error>, baseURL: String) {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = service.application { channel in
            continuation.yield(channel.localAddress?.port ?? 0)
            continuation.finish()
        }
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        var port = 0
        for await p in ports { port = p }
        return (server, "http://127.0.0.1:\(port)")
    }
}
