import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
import Vapor
import X402
import X402Gateway
import X402Hummingbird
import X402TestSupport
import X402Vapor

/// Every paid body starts with this marker; free bodies never contain it.
let paidMarker = "PAID-CONTENT"

/// The paid routes every seller under test protects, with the same prices.
let paidRoutes: RouteTable = [
    "GET /premium": .exact("$0.01", on: .baseSepolia, payTo: .fixed(payTo)),
    "GET /api/*": .exact("$0.02", on: .baseSepolia, payTo: .fixed(payTo)),
    "GET /files/:name": .exact("$0.03", on: .baseSepolia, payTo: .fixed(payTo)),
]
let paidRouteSpecs = ["GET /premium=$0.01", "GET /api/*=$0.02", "GET /files/:name=$0.03"]

func schemes() -> SchemeRegistry<any SchemeServer> {
    var schemes = SchemeRegistry<any SchemeServer>()
    schemes.register(USDCServer(), networks: NetworkPattern(namespace: "eip155"))
    return schemes
}

/// What the handler or upstream served: one entry per paid body produced.
actor ServedLog {
    private(set) var paid: [String] = []
    private(set) var all: [(method: String, path: String, headers: [String: String])] = []
    func servedPaid(_ what: String) { paid.append(what) }
    func saw(_ method: String, _ path: String, _ headers: [String: String]) { all.append((method, path, headers)) }
}

// MARK: - A raw HTTP/1.1 client (sends the request target byte for byte)

struct RawResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: String
    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    func headerValues(_ name: String) -> [String] { headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1) }
}

final class CollectingHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<[UInt8]>
    let bytes = NIOLockedValueBox<[UInt8]>([])
    init(_ promise: EventLoopPromise<[UInt8]>) { self.promise = promise }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        bytes.withLockedValue { $0.append(contentsOf: buffer.readableBytesView) }
    }
    func channelInactive(context: ChannelHandlerContext) { promise.succeed(bytes.withLockedValue { $0 }) }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

/// Sends `method target HTTP/1.1` with `headers` to 127.0.0.1:`port` and reads the answer until the server closes.
func rawRequest(port: Int, method: String, target: String, headers: [(String, String)] = []) async throws -> RawResponse {
    let group = MultiThreadedEventLoopGroup.singleton
    let promise = group.next().makePromise(of: [UInt8].self)
    let channel = try await ClientBootstrap(group: group)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(CollectingHandler(promise)) }
        }
        .connect(host: "127.0.0.1", port: port).get()
    var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    if method == "POST" || method == "PUT" { head += "Content-Length: 0\r\n" }
    head += "\r\n"
    try await channel.writeAndFlush(ByteBuffer(string: head)).get()
    let timeout = channel.eventLoop.scheduleTask(in: .seconds(20)) { channel.close(promise: nil) }
    let bytes = try await promise.futureResult.get()
    timeout.cancel()
    return try parse(bytes, isHead: method == "HEAD")
}

struct MalformedResponse: Error, CustomStringConvertible {
    var description: String
}

func parse(_ bytes: [UInt8], isHead: Bool) throws -> RawResponse {
    // The server closed the connection without answering (status 0: nothing was served).
    if bytes.isEmpty { return RawResponse(status: 0, headers: [], body: "") }
    let separator: [UInt8] = [13, 10, 13, 10]
    guard let end = (0..<max(0, bytes.count - 3)).first(where: { Array(bytes[$0..<($0 + 4)]) == separator }) else {
        throw MalformedResponse(description: "no header end in \(String(decoding: bytes, as: UTF8.self).prefix(200))")
    }
    let head = String(decoding: bytes[..<end], as: UTF8.self)
    var lines = head.components(separatedBy: "\r\n")
    let statusLine = lines.removeFirst().split(separator: " ")
    guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw MalformedResponse(description: "status line \(statusLine)") }
    var headers: [(String, String)] = []
    for line in lines {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
    }
    var body = Array(bytes[(end + 4)...])
    let chunked = headers.contains { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased().contains("chunked") }
    if isHead {
        body = []
    } else if chunked {
        var out: [UInt8] = []
        var i = 0
        while i < body.count {
            guard let lineEnd = (i..<max(i, body.count - 1)).first(where: { body[$0] == 13 && body[$0 + 1] == 10 }) else { break }
            let sizeText = String(decoding: body[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size > 0 else { break }
            let start = lineEnd + 2
            guard start + size <= body.count else { break }
            out += body[start..<(start + size)]
            i = start + size + 2
        }
        body = out
    }
    return RawResponse(status: status, headers: headers, body: String(decoding: body, as: UTF8.self))
}

// MARK: - The three sellers

/// One seller under test, listening on a loopback port, in front of a handler or upstream that logs what it served.
struct Seller: Sendable {
    var name: String
    var port: Int
    var served: ServedLog
    var facilitator: ScriptedFacilitator
}

enum SellerKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case hummingbird, vapor, gateway
    var testDescription: String { rawValue }
}

func headerDictionary(_ fields: HTTPFields) -> [String: String] {
    var out: [String: String] = [:]
    for field in fields { out[field.name.canonicalName, default: ""] += (out[field.name.canonicalName] == nil ? "" : ", ") + field.value }
    return out
}

/// Runs `body` against a fresh seller of `kind`.
func withSeller(_ kind: SellerKind, trustedProxies: [String] = [], _ body: (Seller) async throws -> Void) async throws {
    let served = ServedLog()
    let facilitator = ScriptedFacilitator.seller()
    switch kind {
    case .hummingbird:
        let server = try ResourceServer(configuration: .init(routes: paidRoutes, facilitator: facilitator, schemes: schemes()))
        let router = Hummingbird.Router(options: .autoGenerateHeadEndpoints)
        router.add(middleware: X402Middleware(server: server))
        @Sendable func paid(_ what: String, _ request: Hummingbird.Request) async -> Hummingbird.Response {
            await served.saw(request.method.rawValue, request.uri.path, headerDictionary(request.headers))
            await served.servedPaid(what)
            var fields = HTTPFields()
            fields.append(.init(name: .cacheControl, value: "public, max-age=3600, s-maxage=86400"))
            return Hummingbird.Response(status: .ok, headers: fields, body: .init(byteBuffer: ByteBuffer(string: "\(paidMarker) \(what)")))
        }
        router.get("premium") { request, _ in await paid("premium", request) }
        router.get("api") { request, _ in await paid("api", request) }
        router.get("api/**") { request, _ in await paid("api/**", request) }
        router.get("files/:name") { request, context in await paid("file \(context.parameters.get("name") ?? "")", request) }
        router.get("free") { _, _ in "free" }
        router.post("premium") { _, _ in "free post" }
        let app = { (running: @escaping @Sendable (any Channel) async -> Void) in
            Hummingbird.Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: running)
        }
        try await serving(app) { port in try await body(Seller(name: "hummingbird", port: port, served: served, facilitator: facilitator)) }

    case .vapor:
        let app = try await Vapor.Application.make(.testing)
        do {
            let server = try ResourceServer(configuration: .init(routes: paidRoutes, facilitator: facilitator, schemes: schemes()))
            app.middleware.use(X402VaporMiddleware(server: server))
            @Sendable func paid(_ what: String, _ request: Vapor.Request) async -> Vapor.Response {
                var headers: [String: String] = [:]
                for (name, value) in request.headers { headers[name.lowercased()] = value }
                await served.saw(request.method.rawValue, request.url.path, headers)
                await served.servedPaid(what)
                return Vapor.Response(
                    status: .ok, headers: ["Cache-Control": "public, max-age=3600, s-maxage=86400"], body: .init(string: "\(paidMarker) \(what)"))
            }
            app.get("premium") { request async in await paid("premium", request) }
            app.get("api") { request async in await paid("api", request) }
            app.get("api", "**") { request async in await paid("api/**", request) }
            app.get("files", ":name") { request async in await paid("file \(request.parameters.get("name") ?? "")", request) }
            app.get("free") { _ in "free" }
            app.post("premium") { _ in "free post" }
            app.http.server.configuration.hostname = "127.0.0.1"
            app.http.server.configuration.port = 0
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
            let port = try #require(app.http.server.shared.localAddress?.port)
            try await body(Seller(name: "vapor", port: port, served: served, facilitator: facilitator))
        } catch {
            await app.server.shutdown()
            try await app.asyncShutdown()
            throw error
        }
        await app.server.shutdown()
        try await app.asyncShutdown()

    case .gateway:
        try await serving({ lenientUpstream(served: served, onServerRunning: $0) }) { upstreamPort in
            var configuration = GatewayConfiguration()
            configuration.upstream = "http://127.0.0.1:\(upstreamPort)"
            configuration.payTo = payTo
            configuration.network = .baseSepolia
            configuration.facilitator = "http://127.0.0.1:9"
            configuration.port = 0
            configuration.routes = try paidRouteSpecs.map { try GatewayConfiguration.Route(spec: $0) }
            configuration.trustedProxies = trustedProxies
            let gateway = try Gateway(configuration: configuration, schemes: schemes(), facilitator: facilitator)
            try await serving({ gateway.application(onServerRunning: $0) }) { port in
                try await body(Seller(name: "gateway", port: port, served: served, facilitator: facilitator))
            }
        }
    }
}

/// The worst upstream a gateway can front: it honours method and URL overrides, answers `HEAD`
/// with `GET`, decodes everything, treats `\` as `/`, drops `;parameters` and trailing dots,
/// removes dot segments and ignores case, and serves paid content for whatever resolves to
/// `/premium`, `/api[/…]` or `/files/<name>`.
struct LenientUpstream: HTTPResponder {
    typealias Context = BasicRequestContext
    let served: ServedLog

    func respond(to request: Hummingbird.Request, context: BasicRequestContext) async throws -> Hummingbird.Response {
        let headers = headerDictionary(request.headers)
        await served.saw(request.method.rawValue, request.uri.path, headers)
        var method = request.method.rawValue
        for name in ["x-http-method-override", "x-http-method", "x-method-override"] { if let m = headers[name] { method = m.uppercased() } }
        if let m = request.uri.queryParameters["_method"] { method = String(m).uppercased() }
        if method == "HEAD" { method = "GET" }
        let rawPath = headers["x-original-url"] ?? headers["x-rewrite-url"] ?? request.uri.path
        let resolved = Self.resolve(rawPath)
        let isPaid = resolved == ["premium"] || resolved.first == "api" || (resolved.first == "files" && resolved.count >= 2)
        guard method == "GET", isPaid else {
            return Hummingbird.Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "free")))
        }
        let what = resolved.joined(separator: "/")
        await served.servedPaid(what)
        var fields = HTTPFields()
        fields.append(.init(name: .cacheControl, value: "public, max-age=3600, s-maxage=86400"))
        fields.append(.init(name: .init("Surrogate-Control")!, value: "max-age=86400"))
        return Hummingbird.Response(status: .ok, headers: fields, body: .init(byteBuffer: ByteBuffer(string: "\(paidMarker) \(what)")))
    }

    static func resolve(_ path: String) -> [String] {
        var text = path
        for _ in 0..<2 { text = text.removingPercentEncoding ?? text }
        text = text.replacingOccurrences(of: "\\", with: "/").lowercased()
        var out: [String] = []
        for part in text.split(separator: "/") {
            var segment = String(part.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            if segment == ".." {
                if !out.isEmpty { out.removeLast() }
                continue
            }
            while segment.hasSuffix(".") || segment.hasSuffix(" ") { segment.removeLast() }
            if segment.isEmpty { continue }
            out.append(segment)
        }
        return out
    }
}

func lenientUpstream(served: ServedLog, onServerRunning: @escaping @Sendable (any Channel) async -> Void) -> some ApplicationProtocol & Sendable {
    Hummingbird.Application(
        responder: LenientUpstream(served: served), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: onServerRunning)
}
