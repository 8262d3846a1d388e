/// A configuration problem, named precisely enough to fix.
public enum GatewayConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case missing(String)
    case invalidURL(String, String)
    case invalidRoute(String, String)
    case invalidValue(String, String)
    case unreadableFile(String)
    case invalidFile(String)
    /// An environment variable named by the configuration is not set.
    case missingEnvironment(String)
    /// The resource server refused the routes (e.g. no scheme registered for a network).
    case server(String)
    /// A trusted proxy that is not an IPv4/IPv6 address or CIDR.
    case invalidTrustedProxy(String, String)

    public var description: String {
        switch self {
        case .missing(let what): "missing \(what)"
        case .invalidURL(let what, let url): "\(what): \(url) is not an http(s) URL with a host"
        case .invalidRoute(let route, let why): "route '\(route)': \(why)"
        case .invalidValue(let what, let why): "\(what): \(why)"
        case .unreadableFile(let path): "cannot read \(path)"
        case .invalidFile(let why): "invalid configuration file: \(why)"
        case .missingEnvironment(let name): "environment variable \(name) is not set"
        case .server(let why): why
        case .invalidTrustedProxy(let text, let why): "trusted proxy '\(text)': \(why)"
        }
    }
}
