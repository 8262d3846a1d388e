import Foundation
import X402

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A URLSession wrapper that pays for what it fetches, within the payer's limits (same
/// behaviour as ``PayingHTTPClient``).
public struct PayingURLSession: Sendable {
    public let session: URLSession
    public let payer: Payer

    public init(session: URLSession = .shared, payer: Payer) {
        self.session = session
        self.payer = payer
    }

    /// Sends `request`, paying once if the server asks for it.
    ///
    /// - Throws: ``PaymentRefusal`` when the guard rails refuse, ``PayingClientError`` otherwise.
    public func data(for request: URLRequest) async throws -> PayingClientResponse {
        let headers = (request.allHTTPHeaderFields ?? [:]).map { ($0.key, $0.value) }
        return try await PayingFlow(payer: payer).run(url: request.url?.absoluteString ?? "", requestHeaders: headers) { extra in
            try await send(request, adding: extra)
        }
    }

    /// What the resource would cost on each usable option, without paying.
    public func quote(_ request: URLRequest) async throws -> PriceProbe {
        let (response, quote) = try await PayingFlow(payer: payer).quote { extra in try await send(request, adding: extra) }
        return quote.map { .paymentRequired($0) } ?? .free(response)
    }

    private func send(_ request: URLRequest, adding extra: [(String, String)]) async throws -> PayingClientResponse {
        var request = request
        for (name, value) in extra { request.setValue(value, forHTTPHeaderField: name) }
        let session = self.session
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
                var headers = HeaderFields()
                for (name, value) in http.allHeaderFields {
                    headers.add(String(describing: name), String(describing: value))
                }
                continuation.resume(returning: PayingClientResponse(status: http.statusCode, headers: headers, body: Array(data ?? Data())))
            }
            task.resume()
        }
    }
}
