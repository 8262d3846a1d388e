public import X402

extension SchemeRegistry where Implementation == any SchemeClient {
    /// Registers an `exact` Solana client for `solana:*`, protocol v2 and v1 (`solana`,
    /// `solana-devnet`, `solana-testnet`).
    public mutating func registerExactSVM(_ client: ExactSVMClient, versions: Set<X402Version> = [.v2, .v1]) {
        register(client, networks: .solana, versions: versions)
    }
}

extension SchemeRegistry where Implementation == any SchemeServer {
    /// Registers the `exact` Solana server for `solana:*`, v2 and v1.
    public mutating func registerExactSVM(_ server: ExactSVMServer = ExactSVMServer(), versions: Set<X402Version> = [.v2, .v1]) {
        register(server, networks: .solana, versions: versions)
    }
}

extension SchemeRegistry where Implementation == any SchemeFacilitator {
    /// Registers an `exact` Solana facilitator for `solana:*`, v2 and v1.
    public mutating func registerExactSVM(_ facilitator: ExactSVMFacilitator, versions: Set<X402Version> = [.v2, .v1]) {
        register(facilitator, networks: .solana, versions: versions)
    }
}
