import Foundation
import X402
import X402TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 for fault injection: each request is answered as the
/// scripted ``Behaviour`` says, on its own connection (`Connection: close`). It counts and records
/// requests so tests can assert retry counts and request encoding.
final class JSONRPCTestServer: @unchecked Sendable {
    indirect enum Behaviour: Sendable {
        /// A response with this status and body.
        case respond(status: Int, body: String)
        /// Closes the connection after reading the request, without answering.
        case closeWithoutAnswer
        /// Writes these bytes (not HTTP) and closes.
        case raw(String)
        /// Waits, then behaves as `then`.
        case delay(seconds: Double, then: Behaviour)
        /// Sends the head and a part of the body, then waits this long before closing.
        case stallAfterHeaders(seconds: Double)
        /// Never answers: holds the connection until the server stops (at most a minute).
        case hang

        /// `200` with a JSON-RPC result for request id 1.
        static func result(_ json: String) -> Behaviour {
            .respond(status: 200, body: #"{"jsonrpc":"2.0","id":1,"result":\#(json)}"#)
        }

        /// `200` with a JSON-RPC error for request id 1.
        static func error(code: Int, message: String, data: String? = nil) -> Behaviour {
            let dataMember = data.map { #","data":\#($0)"# } ?? ""
            return .respond(status: 200, body: #"{"jsonrpc":"2.0","id":1,"error":{"code":\#(code),"message":"\#(message)"\#(dataMember)}}"#)
        }
    }

    struct Request: Sendable {
        let headers: [String: String]
        let body: String
        var json: JSONValue? { try? JSONValue(parsing: body) }
        var method: String? { json?["method"]?.stringValue }
        var params: [JSONValue] { json?["params"]?.arrayValue ?? [] }
    }

    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var recorded: [Request] = []
    private let handler: @Sendable (Request, Int) -> Behaviour

    /// `handler` gets each request and its 0-based index.
    init(_ handler: @escaping @Sendable (Request, Int) -> Behaviour) throws {
        self.handler = handler
        let bound = try loopbackSocket(reuseAddress: true, backlog: 64)
        listener = bound.fd
        port = bound.port
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// A fixed behaviour list: request `i` gets `script[min(i, last)]`.
    convenience init(script: [Behaviour]) throws {
        try self.init { _, index in script[min(index, script.count - 1)] }
    }

    deinit { stop() }

    var url: String { "http://127.0.0.1:\(port)/" }

    var requests: [Request] { lock.withLock { recorded } }
    var requestCount: Int { lock.withLock { recorded.count } }

    private var stopped = false
    private var isStopped: Bool { lock.withLock { stopped } }

    /// Stops accepting connections (idempotent).
    func stop() {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// A port on 127.0.0.1 with nothing listening (bound then closed).
    static func unusedPort() throws -> Int {
        let server = try JSONRPCTestServer { _, _ in .closeWithoutAnswer }
        let port = server.port
        server.stop()
        return port
    }

    // MARK: Connection handling

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            Thread { [self] in serve(connection) }.start()
        }
    }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        guard let request = readRequest(connection) else { return }
        let index = lock.withLock {
            recorded.append(request)
            return recorded.count - 1
        }
        perform(handler(request, index), on: connection)
    }

    private func perform(_ behaviour: Behaviour, on connection: Int32) {
        switch behaviour {
        case .respond(let status, let body):
            let bytes = Array(body.utf8)
            let head = "HTTP/1.1 \(status) Status\r\nContent-Type: application/json\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n\r\n"
            write(Array(head.utf8) + bytes, to: connection)
        case .closeWithoutAnswer:
            return
        case .raw(let text):
            write(Array(text.utf8), to: connection)
        case .delay(let seconds, let then):
            Thread.sleep(forTimeInterval: seconds)
            perform(then, on: connection)
        case .hang:
            for _ in 0..<1200 where !isStopped {
                Thread.sleep(forTimeInterval: 0.05)
            }
        case .stallAfterHeaders(let seconds):
            write(Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\":".utf8), to: connection)
            // Sleep in slices so that `stop()` ends the stall: a long stall then costs nothing.
            var left = seconds
            while left > 0, !isStopped {
                Thread.sleep(forTimeInterval: min(0.05, left))
                left -= 0.05
            }
        }
    }

    private func write(_ bytes: [UInt8], to connection: Int32) {
        #if os(Linux)
        let flags = Int32(MSG_NOSIGNAL)
        #else
        let flags: Int32 = 0
        #endif
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, flags) }
            guard sent > 0 else { return }
            offset += sent
        }
    }

    private func readRequest(_ connection: Int32) -> Request? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Int?
        var contentLength = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            data += buffer[0..<count]
            if headerEnd == nil, let end = data.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound {
                headerEnd = end
                let head = String(decoding: data[..<end], as: UTF8.self).lowercased()
                for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
                    contentLength = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let headerEnd, data.count >= headerEnd + contentLength {
                var headers: [String: String] = [:]
                for line in String(decoding: data[..<headerEnd], as: UTF8.self).split(separator: "\r\n").dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                let body = String(decoding: data[headerEnd..<(headerEnd + contentLength)], as: UTF8.self)
                return Request(headers: headers, body: body)
            }
        }
    }
}
