import ServiceLifecycle
import X402EVM

/// Runs the deferred repairs of the signer pools (nonce-gap fills, delivery checks) for the
/// service's lifetime, so they belong to the service group and stop with it.
struct SignerMaintenanceService: Service {
    let pools: [SignerPool]

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for pool in pools {
                    group.addTask { await pool.run() }
                }
            }
        }
    }
}
