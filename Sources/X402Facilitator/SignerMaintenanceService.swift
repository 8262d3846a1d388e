import ServiceLifecycle
import X402EVM

/// Runs the deferred repairs of the signer pools (nonce-gap fills, delivery checks) for the
/// service's lifetime, so they belong to the service group and stop with it.
struct SignerMaintenanceService: Service {
    let pools: [SignerPool]

    func run() async throws {
        guard !pools.isEmpty else {
            // Nothing to maintain (a facilitator serving only Solana networks): stay until the
            // shutdown, since a service that returns early ends the whole service group.
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for pool in pools {
                    group.addTask { await pool.run() }
                }
            }
        }
    }
}
