import ArgumentParser
import X402Facilitator
import X402Gateway

/// What differs between the services' shared server options: their defaults (read from the
/// configuration types, where each is stated once) and the wording of `--v1`.
protocol ServerDefaults {
    /// The listen address when neither the file nor `--host` names one.
    static var host: String { get }
    /// The listen port when neither the file nor `--port` names one.
    static var port: Int { get }
    /// Whether v1 is served by default.
    static var v1: Bool { get }
    /// What the port help adds after the default (e.g. `; 0 picks a free port`).
    static var portNote: String { get }
    /// What `--v1` does, before `(default: on)`.
    static var v1Help: String { get }
}

/// The options both service commands (`x402 facilitator serve`, `x402 gateway`) take: listen
/// address and port, x402 v1, log level. Unset options leave the configuration file's values.
struct ServerOptions<Defaults: ServerDefaults>: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Listen address (default \(Defaults.host))."))
    var host: String?

    @Option(name: .long, help: ArgumentHelp("Listen port (default \(Defaults.port)\(Defaults.portNote))."))
    var port: Int?

    @Flag(inversion: .prefixedNo, help: ArgumentHelp("\(Defaults.v1Help) (default: \(Defaults.v1 ? "on" : "off"))."))
    var v1: Bool?

    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String?

    /// Applies the options that are set.
    /// - Parameters:
    ///   - host: The configuration's listen address.
    ///   - port: The configuration's listen port.
    ///   - v1: The configuration's v1 switch.
    func apply(host configuredHost: inout String, port configuredPort: inout Int, v1 configuredV1: inout Bool) {
        if let host { configuredHost = host }
        if let port { configuredPort = port }
        if let v1 { configuredV1 = v1 }
    }
}

/// `x402 facilitator serve`'s defaults.
enum FacilitatorServerDefaults: ServerDefaults {
    static var host: String { FacilitatorConfiguration().host }
    static var port: Int { FacilitatorConfiguration().port }
    static var v1: Bool { FacilitatorConfiguration().v1 }
    static var portNote: String { "" }
    static var v1Help: String { "Serve x402 protocol version 1 as well as 2" }
}

/// `x402 gateway`'s defaults.
enum GatewayServerDefaults: ServerDefaults {
    static var host: String { GatewayConfiguration().host }
    static var port: Int { GatewayConfiguration().port }
    static var v1: Bool { GatewayConfiguration().v1 }
    static var portNote: String { "; 0 picks a free port" }
    static var v1Help: String { "Offer x402 v1 to clients that send X-PAYMENT" }
}
