import Foundation

/// The upstream's origin and base path.
public struct UpstreamURL: Sendable, Equatable {
    /// `scheme://host[:port]`.
    public let origin: String
    /// The path prefix without a trailing slash (may be empty).
    public let basePath: String

    public init(_ text: String) throws(GatewayConfigurationError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = components.host, !host.isEmpty, components.query == nil, components.fragment == nil
        else { throw .invalidURL("upstream", text) }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        origin = "\(scheme)://\(hostPart)" + (components.port.map { ":\($0)" } ?? "")
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        basePath = path
    }

    /// The upstream URL for a request path (starting with `/`) and optional query.
    public func url(path: String, query: String?) -> String {
        origin + basePath + path + (query.map { $0.isEmpty ? "" : "?\($0)" } ?? "")
    }
}
