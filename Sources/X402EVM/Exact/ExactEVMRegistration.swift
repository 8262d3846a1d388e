public import X402

/// The networks `exact` on EVM registers for: every `eip155` chain (v2 CAIP-2 ids and, through
/// the core's name table, every v1 network name).
extension NetworkPattern {
    public static let allEVM = NetworkPattern(namespace: "eip155")
}

extension SchemeRegistry where Implementation == any SchemeClient {
    /// Registers an `exact` EVM client for `eip155:*`, protocol v2 and v1.
    public mutating func registerExactEVM(_ client: ExactEVMClient, versions: Set<X402Version> = [.v2, .v1]) {
        register(client, networks: .allEVM, versions: versions)
    }

    /// Registers an `exact` EVM client signing with `signer` for `eip155:*`, v2 and v1.
    public mutating func registerExactEVM(signer: any EVMSigner) {
        registerExactEVM(ExactEVMClient(signer: signer))
    }
}

extension SchemeRegistry where Implementation == any SchemeServer {
    /// Registers the `exact` EVM server for `eip155:*`, v2 and v1.
    public mutating func registerExactEVM(_ server: ExactEVMServer = ExactEVMServer(), versions: Set<X402Version> = [.v2, .v1]) {
        register(server, networks: .allEVM, versions: versions)
    }
}

extension SchemeRegistry where Implementation == any SchemeFacilitator {
    /// Registers an `exact` EVM facilitator for `eip155:*`, v2 and v1. Payments on chains it was
    /// not configured for are answered with `invalid_exact_evm_failed_to_get_network_config`.
    public mutating func registerExactEVM(_ facilitator: ExactEVMFacilitator, versions: Set<X402Version> = [.v2, .v1]) {
        register(facilitator, networks: .allEVM, versions: versions)
    }
}
