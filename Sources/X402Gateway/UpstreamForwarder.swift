import AsyncHTTPClient
import Foundation
public import Hummingbird
import Logging
public import NIOCore
import NIOHTTP1
import X402

/// The request context of the gateway: remembers the client's address for `X-Forwarded-For`.
public struct GatewayRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// Forwards a request to the upstream over AsyncHTTPClient, streaming both bodies.
///
/// Hop-by-hop headers (and those named in `Connection`) are dropped both ways, the x402 payment
/// headers never reach the upstream, and neither do method-override headers
/// (`X-HTTP-Method-Override`, `X-HTTP-Method`, `X-Method-Override`) or URL-override headers
/// (`X-Original-URL`, `X-Rewrite-URL`), so the upstream serves the method and path that were
/// charged. The path sent is the canonical one (``RequestPath/canonical``) the route was matched
/// on; the query is passed unchanged. `X-Forwarded-For`/`-Proto`/`-Host` and `Forwarded` from the
/// client are passed on only when the peer is a trusted proxy; otherwise they are replaced with
/// what the gateway sees. When the upstream cannot be reached or does not answer in time the
/// client gets a 502 with a JSON body (and, being ≥ 400, the payment is not settled).
struct UpstreamForwarder: Sendable {
    let upstream: UpstreamURL
    let httpClient: HTTPClient
    let timeout: Duration
    let logger: Logger
    var trustedProxies: [IPAddressRange] = []

    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade",
    ]
    /// Request headers the upstream never sees.
    static let notForwarded: Set<String> = [
        "host", "content-length", "payment-signature", "x-payment", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
        "x-http-method-override", "x-http-method", "x-method-override", "x-original-url", "x-rewrite-url",
    ]
    /// Client-asserted forwarding headers, dropped unless the peer is a trusted proxy.
    static let forwardingHeaders: Set<String> = [
        "forwarded", "x-forwarded-port", "x-forwarded-prefix", "x-forwarded-server", "x-forwarded-ssl", "x-real-ip", "x-client-ip",
        "true-client-ip", "x-cluster-client-ip", "client-ip",
    ]

    /// Whether the peer may assert forwarding headers.
    func trusts(_ peer: SocketAddress?) -> Bool {
        guard let ip = peer?.ipAddress, !trustedProxies.isEmpty else { return false }
        return trustedProxies.contains { $0.contains(ip) }
    }

    func forward(_ request: Request, context: GatewayRequestContext) async -> Response {
        let query = request.uri.query.flatMap { $0.isEmpty ? nil : $0 }
        let path: RequestPath
        do {
            path = try RequestPath(request.uri.path)
        } catch {
            // The middleware refuses these first; never forward a path that was not judged.
            return Self.problem(error.status.code, error.description)
        }
        var outgoing = HTTPClientRequest(url: upstream.url(path: path.canonical, query: query))
        outgoing.method = .init(rawValue: request.method.rawValue)
        let trusted = trusts(context.remoteAddress)

        let dropped = Self.connectionNamed(request.headers.filter { $0.name.canonicalName == "connection" }.map(\.value))
        var contentLength: Int64?
        var chunked = false
        var forwardedFor: [String] = []
        for field in request.headers {
            let name = field.name.canonicalName
            switch name {
            case "content-length": contentLength = Int64(field.value.trimmingCharacters(in: .whitespaces))
            case "transfer-encoding": chunked = true
            case "x-forwarded-for": if trusted { forwardedFor.append(field.value) }
            default: break
            }
            if Self.hopByHop.contains(name) || Self.notForwarded.contains(name) || dropped.contains(name) { continue }
            if !trusted, Self.forwardingHeaders.contains(name) { continue }
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        if let ip = context.remoteAddress?.ipAddress { forwardedFor.append(ip) }
        if !forwardedFor.isEmpty { outgoing.headers.add(name: "X-Forwarded-For", value: forwardedFor.joined(separator: ", ")) }
        let host = request.head.authority ?? request.headers[FieldName("Host")!]
        let clientHost = trusted ? request.headers[values: FieldName("X-Forwarded-Host")!].first : nil
        if let forwardedHost = clientHost ?? host {
            outgoing.headers.add(name: "X-Forwarded-Host", value: forwardedHost)
        }
        let clientProto = trusted ? request.headers[values: FieldName("X-Forwarded-Proto")!].first : nil
        outgoing.headers.add(name: "X-Forwarded-Proto", value: clientProto ?? request.head.scheme ?? "http")

        if let contentLength, contentLength > 0 {
            outgoing.body = .stream(request.body, length: .known(contentLength))
        } else if chunked {
            outgoing.body = .stream(request.body, length: .unknown)
        }

        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(outgoing, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
        } catch {
            logger.warning("upstream request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            let timedOut = (error as? HTTPClientError) == .deadlineExceeded || (error as? HTTPClientError) == .readTimeout
            let message = timedOut ? "The upstream service did not answer in time." : "The upstream service could not be reached."
            return Self.problem(502, message + " No payment was taken.")
        }

        var fields = HTTPFields()
        let droppedBack = Self.connectionNamed(response.headers["Connection"])
        var length: Int?
        for (name, value) in response.headers {
            let lower = name.lowercased()
            if Self.hopByHop.contains(lower) || droppedBack.contains(lower) { continue }
            if lower == "content-length" {
                length = Int(value.trimmingCharacters(in: .whitespaces))
                continue
            }
            if let field = FieldName(name) { fields.append(Field(name: field, value: value)) }
        }
        let body = response.body
        let isHead = request.method == .head
        let status = Int(response.status.code)
        let bodyless = isHead || status == 204 || status == 304 || (100..<200).contains(status)
        if bodyless, let length {
            // Keep the upstream's length for HEAD; write no body.
            fields.append(Field(name: .contentLength, value: String(length)))
            return Response(status: .init(code: status, reasonPhrase: response.status.reasonPhrase), headers: fields, body: ResponseBody())
        }
        return Response(
            status: .init(code: status, reasonPhrase: response.status.reasonPhrase), headers: fields,
            body: ResponseBody(contentLength: length) { writer in
                for try await chunk in body { try await writer.write(chunk) }
                try await writer.finish(nil)
            })
    }

    /// Lower-cased header names listed in `Connection` values.
    static func connectionNamed(_ values: [String]) -> Set<String> {
        var names = Set<String>()
        for value in values {
            for token in value.split(separator: ",") {
                names.insert(token.trimmingCharacters(in: .whitespaces).lowercased())
            }
        }
        return names
    }

    static func problem(_ status: Int, _ message: String) -> Response {
        var fields = HTTPFields()
        fields.append(Field(name: .contentType, value: "application/json"))
        fields.append(Field(name: .cacheControl, value: "no-store"))
        let body = JSONValue.object(["error": .string(message)]).serialized()
        return Response(status: .init(code: status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// `HTTPField` and its name type, reached through `HTTPFields` (HTTPTypes is not imported directly).
typealias Field = HTTPFields.Element
typealias FieldName = HTTPFields.Element.Name
