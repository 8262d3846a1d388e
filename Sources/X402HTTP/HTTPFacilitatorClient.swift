public import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
public import X402

/// The facilitator operation a request is for; given to an authentication provider.
public enum FacilitatorEndpoint: String, Sendable, Hashable {
    case verify
    case settle
    case supported
}

/// How requests to the facilitator are authenticated.
public enum FacilitatorAuthentication: Sendable {
    case none
    /// The same headers on every request (e.g. `Authorization: Bearer …`).
    case headers([(name: String, value: String)])
    /// Headers computed per request (e.g. a short-lived signed token). A failure counts as the
    /// facilitator being unreachable; the request is not sent.
    case provider(@Sendable (FacilitatorEndpoint) async throws -> [(name: String, value: String)])
}

/// A `FacilitatorClient` speaking the facilitator HTTP API (`POST /verify`, `POST /settle`,
/// `GET /supported`) over AsyncHTTPClient.
///
/// Every way implementations report a negative result is accepted as a result, not an error:
/// 200 with `isValid:false` / `success:false`; 400, 412 or 5xx whose body is a VerifyResponse or
/// SettleResponse; and 5xx with `{"error": "<reason>: <message>"}` (Go). Anything else — no
/// connection, no answer in time, a non-2xx without a verdict, a 2xx that is not the message —
/// is a `FacilitatorClientError`.
///
/// `/supported` is cached for ``Configuration/supportedCacheDuration`` and retried on 429.
/// Credentials never appear in logs.
public struct HTTPFacilitatorClient: FacilitatorClient {
    public struct Configuration: Sendable {
        /// The facilitator's base URL, e.g. `https://x402.org/facilitator` (trailing slashes removed).
        public var baseURL: String
        public var authentication: FacilitatorAuthentication
        /// Limit for `/verify` and `/supported`.
        public var timeout: Duration
        /// Limit for `/settle`, which waits for on-chain confirmation.
        public var settleTimeout: Duration
        /// How long a `/supported` answer is reused.
        public var supportedCacheDuration: Duration
        /// Waits between attempts when `/supported` answers 429 (one more attempt per entry).
        public var supportedRetryDelays: [Duration]
        /// The largest answer body read.
        public var maximumResponseBytes: Int

        public init(
            baseURL: String, authentication: FacilitatorAuthentication = .none, timeout: Duration = .seconds(30),
            settleTimeout: Duration = .seconds(120), supportedCacheDuration: Duration = .seconds(600),
            supportedRetryDelays: [Duration] = [.seconds(1), .seconds(2)], maximumResponseBytes: Int = 1 << 20
        ) {
            var url = baseURL
            while url.hasSuffix("/") { url.removeLast() }
            self.baseURL = url
            self.authentication = authentication
            self.timeout = timeout
            self.settleTimeout = settleTimeout
            self.supportedCacheDuration = supportedCacheDuration
            self.supportedRetryDelays = supportedRetryDelays
            self.maximumResponseBytes = maximumResponseBytes
        }
    }

    public let configuration: Configuration
    private let httpClient: HTTPClient
    private let logger: Logger
    private let cache: SupportedResponseCache

    public init(configuration: Configuration, httpClient: HTTPClient = .shared, logger: Logger = Logger(label: "x402.facilitator-client")) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.logger = logger
        self.cache = SupportedResponseCache()
    }

    /// A client for the facilitator at `baseURL`.
    public init(baseURL: String, authentication: FacilitatorAuthentication = .none, httpClient: HTTPClient = .shared) {
        self.init(configuration: Configuration(baseURL: baseURL, authentication: authentication), httpClient: httpClient)
    }

    // MARK: FacilitatorClient

    public func verify(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> VerifyResponse {
        let (status, body) = try await exchange(.verify, body: request.jsonBytes(), timeout: configuration.timeout)
        return try Self.interpretVerify(status: status, body: body)
    }

    /// Settles; the task's settlement id (`SettlementIdempotency/current`, set by the resource
    /// server once per settlement attempt and again on its retries) goes in the `Idempotency-Key`
    /// header, so the facilitator recognises a retry of the request that owns the settlement.
    public func settle(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> SettleResponse {
        var headers: [(name: String, value: String)] = []
        if let id = SettlementIdempotency.acceptableCurrent { headers.append((SettlementIdempotency.headerName, id)) }
        let (status, body) = try await exchange(.settle, body: request.jsonBytes(), timeout: configuration.settleTimeout, headers: headers)
        return try Self.interpretSettle(status: status, body: body, network: request.paymentRequirements.networkIdentifier)
    }

    /// The facilitator's kinds, from the cache while it is fresh.
    public func supported() async throws(FacilitatorClientError) -> SupportedResponse {
        if let fresh = await cache.fresh(within: configuration.supportedCacheDuration) { return fresh }
        return try await refreshSupported()
    }

    /// Fetches `/supported` now (call at start-up to fail fast), retrying on 429, and caches it.
    @discardableResult
    public func refreshSupported() async throws(FacilitatorClientError) -> SupportedResponse {
        var delays = configuration.supportedRetryDelays[...]
        while true {
            let (status, body) = try await exchange(.supported, body: nil, timeout: configuration.timeout)
            if status == 429, let delay = delays.popFirst() {
                logger.debug("facilitator /supported rate limited; retrying", metadata: ["delay": "\(delay)"])
                do { try await Task.sleep(for: delay) } catch { throw .unreachable("cancelled") }
                continue
            }
            guard (200..<300).contains(status) else { throw .httpStatus(status, bodyExcerpt: Self.excerpt(body)) }
            let response: SupportedResponse
            do { response = try SupportedResponse(jsonBytes: body) } catch { throw .invalidResponse("/supported: \(error)") }
            await cache.store(response)
            return response
        }
    }

    // MARK: Interpreting answers

    static func interpretVerify(status: Int, body: [UInt8]) throws(FacilitatorClientError) -> VerifyResponse {
        let json = try? JSONValue(parsing: body)
        if (200..<300).contains(status) {
            guard let json else { throw .invalidResponse("/verify answered with something that is not JSON") }
            do { return try VerifyResponse(json: json) } catch { throw .invalidResponse("/verify: \(error)") }
        }
        if let json, json["isValid"] != nil, let response = try? VerifyResponse(json: json) {
            // A verdict carried by a non-2xx (x402-rs: 400/412). Never a positive one.
            guard !response.isValid else { throw .httpStatus(status, bodyExcerpt: excerpt(body)) }
            return response
        }
        if status >= 500, let (reason, message) = reasonFromErrorBody(json) {
            return .invalid(reason, message: message)
        }
        throw .httpStatus(status, bodyExcerpt: excerpt(body))
    }

    static func interpretSettle(status: Int, body: [UInt8], network: String) throws(FacilitatorClientError) -> SettleResponse {
        let json = try? JSONValue(parsing: body)
        if (200..<300).contains(status) {
            guard let json else { throw .invalidResponse("/settle answered with something that is not JSON") }
            do { return try SettleResponse(json: json) } catch { throw .invalidResponse("/settle: \(error)") }
        }
        if let json, json["success"] != nil || json["errorReason"] != nil {
            var response: SettleResponse
            if json["success"] != nil, let decoded = try? SettleResponse(json: json) {
                response = decoded
            } else if let reason = json["errorReason"]?.stringValue {
                response = .failure(ErrorReason(reason), message: json["errorMessage"]?.stringValue, network: network)
            } else {
                throw .httpStatus(status, bodyExcerpt: excerpt(body))
            }
            // A non-2xx is never a success.
            guard !response.success else { throw .httpStatus(status, bodyExcerpt: excerpt(body)) }
            if response.network.isEmpty { response.network = network }
            return response
        }
        if status >= 500, let (reason, message) = reasonFromErrorBody(json) {
            return .failure(reason, message: message, network: network)
        }
        throw .httpStatus(status, bodyExcerpt: excerpt(body))
    }

    /// Reads Go's `{"error": "<reason>: <message>"}` (or FastAPI's `detail`) when it starts with
    /// a snake_case reason code.
    static func reasonFromErrorBody(_ json: JSONValue?) -> (ErrorReason, String?)? {
        guard let text = json?["error"]?.stringValue ?? json?["detail"]?.stringValue else { return nil }
        let parts = text.split(separator: ":", maxSplits: 1)
        let code = parts.first.map(String.init) ?? ""
        let isCode =
            !code.isEmpty && code.contains("_")
            && code.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
        guard isCode else { return nil }
        let message = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : nil
        return (ErrorReason(code), message)
    }

    static func excerpt(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        return body.count > 200 ? text + "…" : text
    }

    // MARK: Transport

    private func exchange(
        _ endpoint: FacilitatorEndpoint, body: [UInt8]?, timeout: Duration, headers: [(name: String, value: String)] = []
    ) async throws(FacilitatorClientError) -> (Int, [UInt8]) {
        var request = HTTPClientRequest(url: "\(configuration.baseURL)/\(endpoint.rawValue)")
        request.headers.add(name: "Accept", value: "application/json")
        for h in headers { request.headers.replaceOrAdd(name: h.name, value: h.value) }
        if let body {
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        switch configuration.authentication {
        case .none: break
        case .headers(let headers):
            for h in headers { request.headers.replaceOrAdd(name: h.name, value: h.value) }
        case .provider(let provide):
            do {
                for h in try await provide(endpoint) { request.headers.replaceOrAdd(name: h.name, value: h.value) }
            } catch {
                logger.warning("facilitator credentials unavailable", metadata: ["endpoint": "\(endpoint.rawValue)"])
                throw .unreachable("facilitator credentials unavailable")
            }
        }
        let deadline =
            NIODeadline.now() + .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        do {
            let response = try await httpClient.execute(request, deadline: deadline, logger: logger)
            let buffer = try await response.body.collect(upTo: configuration.maximumResponseBytes)
            let status = Int(response.status.code)
            logger.debug("facilitator answered", metadata: ["endpoint": "\(endpoint.rawValue)", "status": "\(status)"])
            return (status, Array(buffer.readableBytesView))
        } catch let error as HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .getConnectionFromPoolTimeout, .tlsHandshakeTimeout:
                throw .timeout
            default:
                throw .unreachable(String(describing: error))
            }
        } catch let error as NIOTooManyBytesError {
            throw .invalidResponse("answer larger than \(configuration.maximumResponseBytes) bytes: \(error)")
        } catch {
            throw .unreachable(String(describing: error))
        }
    }
}

/// The last `/supported` answer and when it was fetched.
actor SupportedResponseCache {
    private var entry: (response: SupportedResponse, at: ContinuousClock.Instant)?

    func fresh(within ttl: Duration) -> SupportedResponse? {
        guard let entry, ContinuousClock.now - entry.at < ttl else { return nil }
        return entry.response
    }

    func store(_ response: SupportedResponse) {
        entry = (response, ContinuousClock.now)
    }
}
