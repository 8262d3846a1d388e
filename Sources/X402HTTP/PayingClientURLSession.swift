import Foundation
import HTTPTypes
public import X402

#if canImport(FoundationNetworking)
public import FoundationNetworking
#endif

/// A URLSession wrapper that pays for what it fetches, within the payer's limits (same
/// behaviour as ``PayingHTTPClient``, including its redirect rules).
///
/// Requests go through a private session built from `session.configuration` whose delegate
/// refuses automatic redirects, so this wrapper follows them itself: payment headers only to the
/// origin that asked for payment, and a 402 from another origin paid only with the owner's
/// consent (``PayingClientOptions/crossOriginPayment``).
public struct PayingURLSession: Sendable {
    public let session: URLSession
    public let payer: Payer
    /// Redirect and pending-settlement rules.
    public var options: PayingClientOptions
    private let transport: NonRedirectingSession

    public init(session: URLSession = .shared, payer: Payer, options: PayingClientOptions = PayingClientOptions()) {
        self.session = session
        self.payer = payer
        self.options = options
        transport = NonRedirectingSession(configuration: session.configuration)
    }

    /// Sends `request`, paying once if the server asks for it.
    ///
    /// - Throws: `PaymentRefusal` when the guard rails refuse, ``PayingClientError`` otherwise.
    public func data(for request: URLRequest) async throws -> PayingClientResponse {
        let headers = (request.allHTTPHeaderFields ?? [:]).map { ($0.key, $0.value) }
        return try await PayingFlow(payer: payer, options: options).run(url: request.url?.absoluteString ?? "", requestHeaders: headers) {
            hop, extra in
            try await send(request, hop: hop, adding: extra)
        }
    }

    /// What the resource would cost on each usable option, without paying.
    public func quote(_ request: URLRequest) async throws -> PriceProbe {
        let (response, quote) = try await PayingFlow(payer: payer, options: options).quote(url: request.url?.absoluteString ?? "") { hop, extra in
            try await send(request, hop: hop, adding: extra)
        }
        return quote.map { .paymentRequired($0) } ?? .free(response)
    }

    private func send(_ original: URLRequest, hop: PayingHop, adding extra: [(String, String)]) async throws -> PayingClientResponse {
        var request = original
        guard let url = URL(string: hop.url) else { throw PayingClientError.invalidRedirect(hop.url) }
        request.url = url
        if hop.crossOrigin {
            for (name, _) in request.allHTTPHeaderFields ?? [:] where PayingFlow.credentialHeaders.contains(name.lowercased()) {
                request.setValue(nil, forHTTPHeaderField: name)
            }
        }
        let method = (request.httpMethod ?? "GET").uppercased()
        if hop.becomesGet && method != "GET" && method != "HEAD" {
            request.httpMethod = "GET"
            request.httpBody = nil
            request.setValue(nil, forHTTPHeaderField: "Content-Type")
            request.setValue(nil, forHTTPHeaderField: "Content-Length")
        }
        for (name, value) in extra { request.setValue(value, forHTTPHeaderField: name) }
        let session = transport.session
        let sendable = request
        return try await withCheckedThrowingContinuation { continuation in
            let task = session.dataTask(with: sendable) { data, response, error in
                if let error {
                    continuation.resume(throwing: PayingClientError.transport(error.localizedDescription))
                    return
                }
                guard let http = response as? HTTPURLResponse else {
                    continuation.resume(throwing: PayingClientError.transport("not an HTTP response"))
                    return
                }
                var headers = HTTPFields()
                for (name, value) in http.allHeaderFields {
                    if let name = HTTPField.Name(String(describing: name)) { headers.append(HTTPField(name: name, value: String(describing: value))) }
                }
                continuation.resume(returning: PayingClientResponse(status: http.statusCode, headers: headers, body: Array(data ?? Data())))
            }
            task.resume()
        }
    }
}

/// A private URLSession whose delegate refuses every automatic redirect (the 3xx answer is
/// returned as is); invalidated when the last ``PayingURLSession`` copy goes away.
final class NonRedirectingSession: Sendable {
    let session: URLSession

    init(configuration: URLSessionConfiguration) {
        session = URLSession(configuration: configuration, delegate: RedirectRefusingDelegate(), delegateQueue: nil)
    }

    deinit { session.finishTasksAndInvalidate() }
}

final class RedirectRefusingDelegate: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
        completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
