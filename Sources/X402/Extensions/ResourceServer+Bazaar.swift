import Foundation
import HTTPTypes

extension ResourceServer {
    /// Checks every route's `bazaar` declaration against its pattern (method, template parameters,
    /// info against schema).
    static func validateBazaar(_ routes: RouteTable) throws(RouteConfigurationError) {
        for (pattern, route) in routes.routes {
            guard let bazaar = route.bazaar else { continue }
            let parameters = Bazaar.routeTemplate(for: pattern.path).map(Bazaar.templateParameters) ?? []
            do {
                try bazaar.validate(method: pattern.method, routeParameters: parameters)
            } catch {
                throw .invalidBazaar(pattern.description, error)
            }
        }
    }

    /// The route's `bazaar` extension for `request`, or `nil` when the route declares none or the
    /// request's method does not fit the declaration.
    ///
    /// A parameterised route gets its template and the request's values of its parameters; when a
    /// value cannot be told (a `*` that spans several segments) the template is left out and the
    /// facilitator catalogs the concrete path.
    static func bazaarExtension(for request: ServerRequest, pattern: RoutePattern, route: PaidRoute) -> JSONValue? {
        guard let bazaar = route.bazaar else { return nil }
        let method = request.method.rawValue.uppercased()
        guard bazaar.methods.contains(method) else { return nil }
        guard let template = Bazaar.routeTemplate(for: pattern.path) else { return bazaar.enriched(method: method) }
        var values: [String: String] = [:]
        let templateSegments = template.split(separator: "/").map(String.init)
        let pathSegments = (try? RequestPath(request.path).segments) ?? []
        for (index, segment) in templateSegments.enumerated() where segment.hasPrefix(":var") {
            guard templateSegments.count == pathSegments.count else { return bazaar.enriched(method: method) }
            values[String(segment.dropFirst())] = pathSegments[index]
        }
        for name in Bazaar.templateParameters(template) where values[name] == nil {
            guard let value = request.routeParameters[name] else { return bazaar.enriched(method: method) }
            values[name] = value
        }
        return bazaar.enriched(method: method, routeTemplate: template, pathParams: values)
    }

    /// The payment as it goes to the facilitator for a route with a `bazaar` declaration: the
    /// client's echo of `bazaar` and its `resource` are replaced by what this server offered, so a
    /// buyer cannot make the facilitator catalog anything the seller did not declare (§0: the client
    /// may add to an extension, never change the server's data).
    static func withOfferedBazaar(_ payload: AnyPaymentPayload, offered: PaymentRequired) -> AnyPaymentPayload {
        guard case .v2(var p) = payload, let declared = offered.extensions?[Bazaar.extensionKey] else { return payload }
        var extensions = p.extensions ?? [:]
        extensions[Bazaar.extensionKey] = declared
        p.extensions = extensions
        p.resource = offered.resource
        return .v2(p)
    }
}
