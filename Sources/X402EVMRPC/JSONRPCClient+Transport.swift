import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import X402
import X402EVM

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Transport

extension JSONRPCClient {
    struct Exchange: Sendable {
        var status: Int
        var bytes: [UInt8]
    }

    /// A failed attempt: the error to report, whether it is worth retrying, and whether the node may have seen it.
    struct Fault: Error {
        var error: EthereumClientError
        var isTransient: Bool
        var mayHaveReachedNode: Bool
    }

    /// Posts `body`, retrying transport faults as `idempotency` allows.
    func send(_ body: [UInt8], idempotency: Idempotency) async throws(EthereumClientError) -> Exchange {
        var retry = 0
        while true {
            do {
                return try await attempt(body)
            } catch let fault {
                guard Self.shouldRetry(fault, idempotency), retry < configuration.maxRetries, !Task.isCancelled else {
                    throw fault.error
                }
                retry += 1
                do {
                    try await Task.sleep(for: backoff(beforeRetry: retry))
                } catch {
                    throw .transport("request cancelled")
                }
            }
        }
    }

    /// The retry rule: only transient faults, and for non-idempotent requests only those the node cannot have seen.
    static func shouldRetry(_ fault: Fault, _ idempotency: Idempotency) -> Bool {
        switch idempotency {
        case .idempotent, .rawTransaction: fault.isTransient
        case .notIdempotent: fault.isTransient && !fault.mayHaveReachedNode
        }
    }

    /// The delay before retry number `retry` (1-based): `backoffBase · 2^(retry-1)`, capped, with 50–100 % jitter.
    func backoff(beforeRetry retry: Int) -> Duration {
        let exponential = configuration.backoffBase * (1 << min(retry - 1, 20))
        let capped = min(exponential, configuration.maxBackoff)
        return capped * Double.random(in: 0.5...1.0)
    }

    /// One HTTP exchange within ``Configuration/timeout``.
    func attempt(_ body: [UInt8]) async throws(Fault) -> Exchange {
        if Task.isCancelled {
            throw Fault(error: .transport("request cancelled"), isTransient: false, mayHaveReachedNode: false)
        }
        var request = HTTPClientRequest(url: configuration.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        for header in configuration.headers {
            request.headers.replaceOrAdd(name: header.name, value: header.value)
        }
        request.body = .bytes(ByteBuffer(bytes: body))

        let clock = ContinuousClock()
        let deadline = clock.now + configuration.timeout
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, deadline: .now() + TimeAmount(configuration.timeout))
        } catch {
            throw Self.classify(error, url: configuration.url)
        }
        let status = Int(response.status.code)
        let limit = configuration.maxResponseBytes
        let bytes: [UInt8]
        do {
            bytes = try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                group.addTask {
                    var buffer = try await response.body.collect(upTo: limit)
                    return buffer.readBytes(length: buffer.readableBytes) ?? []
                }
                group.addTask {
                    try await Task.sleep(until: deadline, clock: clock)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let bytes = first else {
                    throw Fault(error: .timeout, isTransient: true, mayHaveReachedNode: true)
                }
                return bytes
            }
        } catch {
            throw Self.classify(error, url: configuration.url)
        }
        if !(200..<300).contains(status) {
            // Some nodes send JSON-RPC errors with a 4xx/5xx status: keep the node's error then.
            if let nodeError = Self.nodeErrorInBody(bytes) {
                throw Fault(error: nodeError, isTransient: false, mayHaveReachedNode: true)
            }
            let text = String(decoding: bytes.prefix(512), as: UTF8.self)
            throw Fault(
                error: .httpStatus(status, body: text),
                isTransient: configuration.retryableHTTPStatuses.contains(status),
                mayHaveReachedNode: true
            )
        }
        return Exchange(status: status, bytes: bytes)
    }

    /// Maps a transport-level error to a ``Fault``; descriptions name no URL or header.
    ///
    /// - Parameters:
    ///   - error: What the `HTTPClient` (or the body collection) threw.
    ///   - url: The request's URL, used only to recognise AsyncHTTPClient's `unsupportedScheme` error
    ///     (it carries the scheme as written in the URL); it never appears in the result.
    /// - Returns: The fault to report, with whether it is worth retrying and whether the node may have seen it.
    static func classify(_ error: any Error, url: String) -> Fault {
        if let fault = error as? Fault { return fault }
        if error is CancellationError {
            return Fault(error: .transport("request cancelled"), isTransient: false, mayHaveReachedNode: true)
        }
        if error is NIOTooManyBytesError {
            return Fault(error: .invalidResponse("answer exceeds the configured maximum size"), isTransient: false, mayHaveReachedNode: true)
        }
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout, .getConnectionFromPoolTimeout:
                return Fault(error: .timeout, isTransient: true, mayHaveReachedNode: false)
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return Fault(error: .timeout, isTransient: true, mayHaveReachedNode: true)
            case .remoteConnectionClosed:
                return Fault(error: .transport("the node closed the connection"), isTransient: true, mayHaveReachedNode: true)
            case .cancelled:
                return Fault(error: .transport("request cancelled"), isTransient: !Task.isCancelled, mayHaveReachedNode: true)
            case .invalidURL, .emptyHost, .emptyScheme, .missingSocketPath:
                return Fault(error: .transport("invalid node URL"), isTransient: false, mayHaveReachedNode: false)
            default:
                if let scheme = URL(string: url)?.scheme, client == .unsupportedScheme(scheme) {
                    return Fault(error: .transport("invalid node URL"), isTransient: false, mayHaveReachedNode: false)
                }
                return Fault(error: .transport(client.description), isTransient: true, mayHaveReachedNode: true)
            }
        }
        if let channel = error as? ChannelError, case .connectTimeout = channel {
            return Fault(error: .timeout, isTransient: true, mayHaveReachedNode: false)
        }
        if let connection = error as? NIOConnectionError {
            let refused = connection.connectionErrors.contains { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }
            let detail = refused ? ": connection refused" : ""
            return Fault(error: .transport("could not connect to the node" + detail), isTransient: true, mayHaveReachedNode: false)
        }
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED:
                return Fault(error: .transport("could not connect to the node: connection refused"), isTransient: true, mayHaveReachedNode: false)
            case ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL:
                return Fault(error: .transport("could not connect to the node: unreachable"), isTransient: true, mayHaveReachedNode: false)
            case ECONNRESET:
                return Fault(error: .transport("connection reset by the node"), isTransient: true, mayHaveReachedNode: true)
            default:
                return Fault(error: .transport("I/O error: \(io.description)"), isTransient: true, mayHaveReachedNode: true)
            }
        }
        return Fault(error: .transport("\(type(of: error)): \(error)"), isTransient: true, mayHaveReachedNode: true)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        self = nanoseconds.overflow ? .nanoseconds(.max) : .nanoseconds(nanoseconds.partialValue + attoseconds / 1_000_000_000)
    }
}
