import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import X402

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
/// On a 402 the request is sent again exactly once, with the payment; the request body must
/// therefore be replayable (`.bytes`, not a one-shot stream).
public struct PayingHTTPClient: Sendable {
    public let httpClient: HTTPClient
    public let payer: Payer
    /// Per-request timeout.
    public var timeout: TimeAmount
    /// Largest response body read.
    public var maximumBodySize: Int

    public init(httpClient: HTTPClient = .shared, payer: Payer, timeout: TimeAmount = .seconds(60), maximumBodySize: Int = 16 * 1024 * 1024) {
        self.httpClient = httpClient
        self.payer = payer
        self.timeout = timeout
        self.maximumBodySize = maximumBodySize
    }

    /// Sends `request`, paying once if the server asks for it.
    ///
    /// - Returns: the final response; ``PayingClientResponse/payment`` says whether it was paid
    ///   or the payment was rejected.
    /// - Throws: ``PaymentRefusal`` when the guard rails refuse (nothing signed, no second
    ///   request), ``PayingClientError`` for an unreadable 402 or a transport failure.
    public func execute(_ request: HTTPClientRequest) async throws -> PayingClientResponse {
        let headers = request.headers.map { ($0.name, $0.value) }
        return try await PayingFlow(payer: payer).run(url: request.url, requestHeaders: headers) { extra in
            try await send(request, adding: extra)
        }
    }

    /// What the resource would cost on each usable option, without paying.
    public func quote(_ request: HTTPClientRequest) async throws -> PriceProbe {
        let (response, quote) = try await PayingFlow(payer: payer).quote { extra in try await send(request, adding: extra) }
        return quote.map { .paymentRequired($0) } ?? .free(response)
    }

    private func send(_ request: HTTPClientRequest, adding extra: [(String, String)]) async throws -> PayingClientResponse {
        var request = request
        for (name, value) in extra { request.headers.replaceOrAdd(name: name, value: value) }
        do {
            let response = try await httpClient.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: maximumBodySize)
            var headers = HeaderFields()
            for header in response.headers { headers.add(header.name, header.value) }
            return PayingClientResponse(status: Int(response.status.code), headers: headers, body: Array(buffer: body))
        } catch let error as NIOTooManyBytesError {
            throw PayingClientError.transport("response body larger than \(maximumBodySize) bytes: \(error)")
        } catch let error as HTTPClientError {
            throw PayingClientError.transport(String(describing: error))
        }
    }
}
