/// Why a facilitator could not be asked, or answered with something that is not a protocol
/// answer. A negative verify or a failed settlement is *not* an error: it is a `VerifyResponse`
/// with `isValid == false` or a `SettleResponse` with `success == false`.
public enum FacilitatorClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The facilitator could not be reached (connection refused, reset, DNS).
    case unreachable(String)
    /// No answer within the configured timeout.
    case timeout
    /// A non-2xx answer without a usable verify/settle body.
    case httpStatus(Int, bodyExcerpt: String)
    /// An answer that is not the expected JSON message.
    case invalidResponse(String)

    public var description: String {
        switch self {
        case .unreachable(let m): "facilitator unreachable: \(m)"
        case .timeout: "facilitator did not answer in time"
        case .httpStatus(let s, let body): "facilitator answered HTTP \(s): \(body)"
        case .invalidResponse(let m): "facilitator sent an invalid response: \(m)"
        }
    }
}

/// Access to a facilitator (`/verify`, `/settle`, `/supported`), over HTTP or in process.
///
/// Implementations must surface structured failures from any status code (200 with
/// `isValid:false`, 400/412 with a body, 500 with a body) as responses, and reserve
/// ``FacilitatorClientError`` for answers that carry no verdict.
public protocol FacilitatorClient: Sendable {
    func verify(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> VerifyResponse
    func settle(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> SettleResponse
    func supported() async throws(FacilitatorClientError) -> SupportedResponse
}
