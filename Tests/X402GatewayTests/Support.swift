import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import Testing
import X402
import X402Gateway
import X402TestSupport

/// What the upstream saw.
struct SeenRequest: Sendable {
    var method: String
    var path: String
    var query: String?
    var headers: [String: String]
    var body: String
}

actor UpstreamLog {
    private(set) var requests: [SeenRequest] = []
    func add(_ r: SeenRequest) { requests.append(r) }
    var count: Int { requests.count }
}

/// The real upstream service: a Hummingbird server that records every request.
func upstreamApp(log: UpstreamLog, onServerRunning: @escaping @Sendable (any Channel) async -> Void) -> some ApplicationProtocol & Sendable {
    let router = Router()
    @Sendable func record(_ request: Request, _ context: BasicRequestContext) async throws -> SeenRequest {
        let body = try await request.body.collect(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers {
            headers[field.name.canonicalName, default: ""] += (headers[field.name.canonicalName] == nil ? "" : ", ") + field.value
        }
        let seen = SeenRequest(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query, headers: headers, body: String(buffer: body))
        await log.add(seen)
        return seen
    }
    router.get("api/data") { request, context -> Response in
        let seen = try await record(request, context)
        var fields = HTTPFields()
        fields.append(.init(name: .init("X-Upstream")!, value: "yes"))
        fields.append(.init(name: .contentType, value: "application/json"))
        fields.append(.init(name: .init("Connection")!, value: "X-Secret-Hop"))
        fields.append(.init(name: .init("X-Secret-Hop")!, value: "dropped"))
        let json = "{\"weather\":\"sunny\",\"query\":\"\(seen.query ?? "")\"}"
        return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
    }
    router.post("api/echo") { request, context -> Response in
        let seen = try await record(request, context)
        return Response(status: .created, body: ResponseBody(byteBuffer: ByteBuffer(string: "echo:" + seen.body)))
    }
    router.get("api/fail") { request, context -> Response in
        _ = try await record(request, context)
        return Response(status: .internalServerError, body: ResponseBody(byteBuffer: ByteBuffer(string: "upstream broke")))
    }
    router.get("api/stream") { request, context -> Response in
        _ = try await record(request, context)
        return Response(
            status: .ok,
            body: ResponseBody { writer in
                for i in 0..<5 {
                    try await writer.write(ByteBuffer(string: "chunk\(i);"))
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await writer.finish(nil)
            })
    }
    router.get("free") { request, context -> Response in
        _ = try await record(request, context)
        return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "free")))
    }
    router.post("free/upload") { request, context -> Response in
        let seen = try await record(request, context)
        return Response(status: .accepted, body: ResponseBody(byteBuffer: ByteBuffer(string: "got \(seen.body.utf8.count) bytes")))
    }
    return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: onServerRunning)
}

/// The standard test configuration pointed at `upstream`.
func gatewayConfiguration(upstream: String) throws -> GatewayConfiguration {
    var c = GatewayConfiguration()
    c.upstream = upstream
    c.payTo = payTo
    c.network = .baseSepolia
    c.facilitator = "http://127.0.0.1:9"  // replaced by the scripted facilitator
    c.port = 0
    c.routes = [
        try .init(spec: "GET /api/data=$0.01"),
        try .init(spec: "POST /api/echo=$0.02"),
        try .init(spec: "GET /api/fail=$0.01"),
        .init(route: "GET /api/stream", price: "$0.03", settleBefore: true),
    ]
    return c
}

/// A gateway in front of a fresh upstream (or `upstreamOverride`), with a scripted facilitator.
func withGateway(
    facilitator: ScriptedFacilitator = .seller(), upstreamOverride: String? = nil, upstreamTimeoutSeconds: Int = 60,
    trustedProxies: [String] = [], _ body: (_ gateway: String, _ log: UpstreamLog) async throws -> Void
) async throws {
    let log = UpstreamLog()
    try await serving({ upstreamApp(log: log, onServerRunning: $0) }) { upstreamPort in
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.register(USDCServer(), networks: NetworkPattern(namespace: "eip155"))
        var configuration = try gatewayConfiguration(upstream: upstreamOverride ?? "http://127.0.0.1:\(upstreamPort)")
        configuration.upstreamTimeoutSeconds = upstreamTimeoutSeconds
        configuration.trustedProxies = trustedProxies
        let gateway = try Gateway(configuration: configuration, schemes: schemes, facilitator: facilitator)
        try await serving({ gateway.application(onServerRunning: $0) }) { port in
            try await body("http://127.0.0.1:\(port)", log)
        }
    }
}

struct Fetched {
    var status: Int
    var headers: [(String, String)]
    var body: String
    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
}

func fetch(_ url: String, method: String = "GET", headers: [(String, String)] = [], body: String? = nil) async throws -> Fetched {
    var request = HTTPClientRequest(url: url)
    request.method = .init(rawValue: method)
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(string: body)) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    let bytes = try await response.body.collect(upTo: 1 << 20)
    return Fetched(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: String(buffer: bytes))
}

/// Asks for `url`, then pays the 402 and returns the paid answer.
func pay(_ url: String, method: String = "GET", body: String? = nil, nonce: String = "0x01") async throws -> (Fetched, String) {
    let unpaid = try await fetch(url, method: method, body: body)
    #expect(unpaid.status == 402)
    let required = try #require(unpaid.header("PAYMENT-REQUIRED"))
    let paid = try signature(for: required, nonce: nonce)
    return (try await fetch(url, method: method, headers: [("PAYMENT-SIGNATURE", paid)], body: body), paid)
}
