public import AsyncHTTPClient
import Foundation
import HTTPTypes
public import NIOCore
import NIOFoundationCompat
import NIOHTTP1
public import X402

/// An AsyncHTTPClient wrapper that pays for what it fetches, within the payer's limits.
///
/// ```swift
/// var schemes = SchemeRegistry<any SchemeClient>()
/// schemes.registerExactEVM(signer: key)
/// let client = PayingHTTPClient(payer: Payer(schemes: schemes, wallet: key.address.description,
///     policy: SpendingPolicy(perPaymentCap: try DollarAmount("$0.25"))))
/// let response = try await client.execute(HTTPClientRequest(url: "https://api.example/data"))
/// if case .paid(let receipt) = response.payment { print(receipt.settlement?.transaction ?? "") }
/// ```
///
/// On a 402 the request is sent again with the payment (the same payment again while the
/// server reports its settlement pending); the request body must therefore be replayable
/// (`.bytes`, not a one-shot stream).
///
/// Redirects are followed by this client, not by the `HTTPClient` (at most
/// ``PayingClientOptions/maxRedirects``): the payment header goes only to the origin (scheme, host,
/// port) that answered 402, and a 402 from another origin than the requested one is paid only if
/// ``PayingClientOptions/crossOriginPayment`` allows it. The default `httpClient` has automatic
/// redirects disabled; a client you pass must be configured with
/// `redirectConfiguration = .disallow` (a redirect it follows by itself fails the call).
public struct PayingHTTPClient: Sendable {
    public let httpClient: HTTPClient
    public let payer: Payer
    /// Per-request timeout.
    public var timeout: TimeAmount
    /// Largest response body read.
    public var maximumBodySize: Int
    /// Redirect and pending-settlement rules.
    public var options: PayingClientOptions

    /// A process-wide client that never follows redirects by itself (the default).
    public static let nonRedirectingShared: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public init(
        httpClient: HTTPClient = PayingHTTPClient.nonRedirectingShared, payer: Payer, timeout: TimeAmount = .seconds(60),
        maximumBodySize: Int = 16 * 1024 * 1024, options: PayingClientOptions = PayingClientOptions()
    ) {
        self.httpClient = httpClient
        self.payer = payer
        self.timeout = timeout
        self.maximumBodySize = maximumBodySize
        self.options = options
    }

    /// Sends `request`, paying once if the server asks for it.
    ///
    /// - Returns: the final response; ``PayingClientResponse/payment`` says whether it was paid,
    ///   rejected, or is still pending.
    /// - Throws: `PaymentRefusal` when the guard rails refuse (nothing signed, no second
    ///   request), ``PayingClientError`` for an unreadable 402, a redirect problem or a transport failure.
    public func execute(_ request: HTTPClientRequest) async throws -> PayingClientResponse {
        let headers = request.headers.map { ($0.name, $0.value) }
        return try await PayingFlow(payer: payer, options: options).run(url: request.url, requestHeaders: headers) { hop, extra in
            try await send(request, hop: hop, adding: extra)
        }
    }

    /// What the resource would cost on each usable option, without paying.
    public func quote(_ request: HTTPClientRequest) async throws -> PriceProbe {
        let (response, quote) = try await PayingFlow(payer: payer, options: options).quote(url: request.url) { hop, extra in
            try await send(request, hop: hop, adding: extra)
        }
        return quote.map { .paymentRequired($0) } ?? .free(response)
    }

    private func send(_ original: HTTPClientRequest, hop: PayingHop, adding extra: [(String, String)]) async throws -> PayingClientResponse {
        var request = original
        request.url = hop.url
        if hop.crossOrigin {
            for name in PayingFlow.credentialHeaders { request.headers.remove(name: name) }
        }
        if hop.becomesGet && request.method != .GET && request.method != .HEAD {
            request.method = .GET
            request.body = nil
            request.headers.remove(name: "Content-Type")
            request.headers.remove(name: "Content-Length")
        }
        for (name, value) in extra { request.headers.replaceOrAdd(name: name, value: value) }
        do {
            let response = try await httpClient.execute(request, timeout: timeout)
            if response.history.count > 1 {
                throw PayingClientError.transport(
                    "the HTTP client followed a redirect by itself; configure it with redirectConfiguration = .disallow")
            }
            let body = try await response.body.collect(upTo: maximumBodySize)
            var headers = HTTPFields()
            for header in response.headers {
                if let name = HTTPField.Name(header.name) { headers.append(HTTPField(name: name, value: header.value)) }
            }
            return PayingClientResponse(status: Int(response.status.code), headers: headers, body: Array(buffer: body))
        } catch let error as NIOTooManyBytesError {
            throw PayingClientError.transport("response body larger than \(maximumBodySize) bytes: \(error)")
        } catch let error as HTTPClientError {
            throw PayingClientError.transport(String(describing: error))
        }
    }
}
