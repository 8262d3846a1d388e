import ArgumentParser

/// `x402 gateway`: a paid reverse proxy in front of any HTTP service (in progress).
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Put an existing HTTP API behind x402 payments (paid reverse proxy).")

    func run() async throws {
        throw ValidationError("x402 gateway is not implemented yet")
    }
}
