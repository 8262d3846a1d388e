/// Why a facilitator could not be asked, or answered with something that is not a protocol
/// answer. A negative verify or a failed settlement is *not* an error: it is a `VerifyResponse`
/// with `isValid == false` or a `SettleResponse` with `success == false`.
///
/// A struct rather than an enum so that new kinds of failure can be added without breaking
/// callers: switch over ``code`` with a `default` branch.
public struct FacilitatorClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Hashable { case unreachable, timeout, httpStatus, invalidResponse }
        private let base: Base

        /// The facilitator could not be reached (connection refused, reset, DNS).
        public static let unreachable = Code(base: .unreachable)
        /// No answer within the configured timeout.
        public static let timeout = Code(base: .timeout)
        /// A non-2xx answer without a usable verify/settle body.
        public static let httpStatus = Code(base: .httpStatus)
        /// An answer that is not the expected JSON message.
        public static let invalidResponse = Code(base: .invalidResponse)

        public var description: String { "\(base)" }
    }

    /// The kind of failure.
    public let code: Code
    /// What went wrong: the transport's message, or an excerpt of the unusable answer.
    public let detail: String
    /// For ``Code/httpStatus``: the HTTP status the facilitator answered with.
    public let httpStatus: Int?

    private init(_ code: Code, detail: String, httpStatus: Int? = nil) {
        self.code = code
        self.detail = detail
        self.httpStatus = httpStatus
    }

    /// The facilitator could not be reached (connection refused, reset, DNS).
    /// - Parameter message: what the transport reported.
    /// - Returns: the error.
    public static func unreachable(_ message: String) -> Self { Self(.unreachable, detail: message) }

    /// No answer within the configured timeout.
    public static let timeout = Self(.timeout, detail: "")

    /// A non-2xx answer without a usable verify/settle body.
    /// - Parameters:
    ///   - status: the HTTP status.
    ///   - bodyExcerpt: the start of the body, for diagnosis.
    /// - Returns: the error.
    public static func httpStatus(_ status: Int, bodyExcerpt: String) -> Self { Self(.httpStatus, detail: bodyExcerpt, httpStatus: status) }

    /// An answer that is not the expected JSON message.
    /// - Parameter message: why it could not be read.
    /// - Returns: the error.
    public static func invalidResponse(_ message: String) -> Self { Self(.invalidResponse, detail: message) }

    public var description: String {
        switch code {
        case .unreachable: "facilitator unreachable: \(detail)"
        case .timeout: "facilitator did not answer in time"
        case .httpStatus: "facilitator answered HTTP \(httpStatus ?? 0): \(detail)"
        default: "facilitator sent an invalid response: \(detail)"
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
