public import HTTPTypes

/// What to do with a request, as decided by ``ResourceServer/decide(_:)``.
public enum RequestDecision: Sendable {
    /// The route is not protected (or a hook granted access): run the handler, send its response.
    case passThrough(ServerRequest)
    /// A wallet signed in instead of paying: run the handler and send its response with these
    /// headers merged in (`HTTPFields.mergePaymentRelease(_:)`): the response is private to it.
    case signedIn(ServerRequest, addingHeaders: HTTPFields)
    /// Send this response; do not run the handler.
    case respond(ServerResponse)
    /// The payment is verified (and, for settle-before routes, settled): run the handler with this
    /// request, then call ``ResourceServer/complete(_:handlerStatus:)`` before sending anything.
    case proceed(PendingPayment)
}

/// What to send once the handler has produced its status and headers.
public enum PaymentCompletion: Sendable {
    /// Send the handler's response, adding these headers (e.g. `PAYMENT-RESPONSE`).
    case release(addingHeaders: HTTPFields)
    /// Discard the handler's response (never send its body) and send this one.
    case replace(ServerResponse)
}

/// The HTTP answer over the payment lifecycle: status codes (402, 412, 500, 502, 503, and 400,
/// 414 or 204 for refused paths and preflights), the `PAYMENT-REQUIRED` / `PAYMENT-RESPONSE`
/// headers of v2 or the JSON body and `X-PAYMENT-RESPONSE` of v1, the browser paywall, CORS
/// headers and `Cache-Control`.
extension ResourceServer {
    /// Decides what to do with an HTTP request before its handler runs.
    ///
    /// - Parameter incoming: The request.
    /// - Returns: Pass it through, answer it, or run the handler for a pending payment.
    public func decide(_ incoming: ServerRequest) async -> RequestDecision {
        switch await evaluate(incoming) {
        case .free(let request): .passThrough(request)
        case .signedIn(let request, _): .signedIn(request, addingHeaders: signedInHeaders())
        case .answer(let answer): .respond(await response(for: answer))
        case .proceed(let payment): .proceed(payment)
        }
    }

    /// Finishes a paid request once the handler has answered with `handlerStatus` (its body not
    /// yet sent). Settles when the route settles after the handler and the status is below 400.
    ///
    /// - Parameters:
    ///   - payment: The payment from ``RequestDecision/proceed(_:)``.
    ///   - handlerStatus: The status of the handler's response.
    /// - Returns: The headers to release the handler's response with, or the response replacing it.
    public func complete(_ payment: PendingPayment, handlerStatus: HTTPResponse.Status) async -> PaymentCompletion {
        switch await conclude(payment, handlerSucceeded: handlerStatus.code < 400) {
        case .settled(let settlement): .release(addingHeaders: settlementHeaders(settlement, version: payment.attempt.payload.version))
        case .unsettled: .release(addingHeaders: corsHeaders())
        case .answer(let answer): .replace(await response(for: answer))
        }
    }

    /// Runs the whole flow around `handler`, holding the handler's response until settlement.
    /// Convenient for adapters with buffered bodies and for tests.
    ///
    /// - Parameters:
    ///   - request: The request.
    ///   - handler: The route's handler.
    /// - Returns: The handler's response with the payment headers, or the engine's answer.
    /// - Throws: What `handler` throws (the payment is then released, unless already settled).
    public func respond(
        to request: ServerRequest, handler: @Sendable (ServerRequest) async throws -> ServerResponse
    ) async rethrows -> ServerResponse {
        switch await decide(request) {
        case .respond(let response):
            return response
        case .passThrough(let request):
            return try await handler(request)
        case .signedIn(let request, let headers):
            var output = try await handler(request)
            output.headers.mergePaymentRelease(headers)
            return output
        case .proceed(let payment):
            let output: ServerResponse
            do {
                output = try await handler(payment.request)
            } catch {
                await abandon(payment)
                throw error
            }
            switch await complete(payment, handlerStatus: output.status) {
            case .replace(let response):
                return response
            case .release(let headers):
                var released = output
                released.headers.mergePaymentRelease(headers)
                return released
            }
        }
    }

    /// The HTTP response for an answer of the payment lifecycle.
    ///
    /// - Parameter answer: What the lifecycle reported.
    /// - Returns: The response, with the CORS headers when ``exposesHeadersForCORS`` is set.
    public func response(for answer: PaymentAnswer) async -> ServerResponse {
        switch answer.reason {
        case .refusedPath(let refusal):
            return finish(refusal.response)
        case .preflight(let allow):
            return finish(RouteResolution.preflightResponse(allow: allow, request: answer.request))
        case .paymentRequired:
            guard let offer = answer.offer else { return jsonError(.internalServerError, "Payment required") }
            if answer.request.isFromBrowser {
                let html = offer.paywallHTML ?? paywall.html(for: offer.required)
                return finish(
                    ServerResponse(
                        status: .paymentRequired, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                        body: Array(html.utf8)))
            }
            if unpaidOfferVersion == .v1, acceptsV1, !offer.requirementsV1.isEmpty {
                return v1Required(error: "X-PAYMENT header is required", accepts: offer.requirementsV1)
            }
            if let encoded = offer.encodedRequired {
                return finish(ServerResponse.json(.paymentRequired, .object([:]), headers: [.paymentRequired: encoded, .cacheControl: "no-store"]))
            }
            return v2Required(offer.required, status: .paymentRequired)
        case .unreadablePayment(let description):
            return v1Required(error: "Invalid X-PAYMENT header: \(description)", accepts: answer.offer?.requirementsV1 ?? [])
        case .failed(let failure, let duringSettlement):
            return await failureResponse(answer.request, failure, version: answer.version, offer: answer.offer, duringSettlement: duringSettlement)
        case .hookResponse(let response, let settlement):
            var r = finish(response)
            if let settlement {
                for field in settlementHeaders(settlement, version: answer.version) { r.headers[field.name] = field.value }
            }
            return r
        }
    }

    // MARK: - Failures

    private func failureResponse(
        _ request: ServerRequest, _ failure: PaymentFailure, version: X402Version, offer: PaymentOffer?, duringSettlement: Bool
    ) async -> ServerResponse {
        if let hook = hooks.onFailure, case .respond(let custom) = await hook(request, failure) {
            return finish(custom)
        }
        func rejected(_ error: String, status: HTTPResponse.Status = .paymentRequired, extra: JSONObject = [:]) -> ServerResponse {
            if version == .v1 {
                return v1Required(error: error, accepts: offer?.requirementsV1 ?? [], additionalMembers: extra)
            }
            guard var required = offer?.required else { return jsonError(.internalServerError, error) }
            required.error = error
            return v2Required(required, status: status)
        }
        switch failure {
        case .noMatchingRequirements:
            return rejected(version == .v1 ? "Unable to find matching payment requirements" : "No matching payment requirements")
        case .replayed(let record):
            return rejected(record.phase == .settled ? ErrorReason.paymentAlreadyUsed.rawValue : ErrorReason.paymentInProgress.rawValue)
        case .verificationFailed(let v):
            let reason = v.invalidReason?.rawValue ?? "invalid_payment"
            let status: HTTPResponse.Status = v.invalidReason == .permit2AllowanceRequired && version == .v2 ? .preconditionFailed : .paymentRequired
            var extra = JSONObject()
            if let payer = v.payer { extra["payer"] = .string(payer) }
            return rejected(reason, status: status, extra: extra)
        case .settlementFailed(var s):
            if s.network.isEmpty, let network = offer?.required.accepts.first?.network.identifier { s.network = network }
            if version == .v1 {
                var r = v1Required(error: s.errorReason?.rawValue ?? "settlement_failed", accepts: offer?.requirementsV1 ?? [])
                r.headers[.xPaymentResponse] = s.headerValue
                return r
            }
            return finish(ServerResponse.json(.paymentRequired, .object([:]), headers: [.paymentResponse: s.headerValue, .cacheControl: "no-store"]))
        case .facilitatorFault(let error):
            let status: HTTPResponse.Status
            let message: String
            switch error.code {
            case .unreachable, .timeout:
                status = .serviceUnavailable
                message = "The payment facilitator is unavailable; no payment was taken. Try again later."
            default:
                status = .badGateway
                message = "The payment facilitator sent an invalid answer; no payment was taken."
            }
            var headers: HTTPFields = [.cacheControl: "no-store"]
            if status == .serviceUnavailable { headers[.retryAfter] = "5" }
            var body: JSONObject = ["error": .string(message), "details": .string(error.description)]
            if duringSettlement {
                body["error"] = .string(
                    status == .serviceUnavailable
                        ? "The payment facilitator is unavailable; the payment was not settled and the resource was not served."
                        : "The payment facilitator sent an invalid answer; the payment was not settled and the resource was not served.")
            }
            return finish(ServerResponse.json(status, .object(body), headers: headers))
        case .storeUnavailable:
            return jsonError(.serviceUnavailable, "Payment state is unavailable; no payment was taken. Try again later.")
        case .requirementsUnavailable:
            return jsonError(.internalServerError, "The price of this resource could not be determined.")
        case .paymentIdentifier(let problem):
            return rejected(problem.reason.rawValue, status: problem == .conflict ? .conflict : .badRequest)
        }
    }

    // MARK: - Building answers

    private func jsonError(_ status: HTTPResponse.Status, _ message: String) -> ServerResponse {
        finish(ServerResponse.json(status, ["error": .string(message)], headers: [.cacheControl: "no-store"]))
    }

    private func v2Required(_ required: PaymentRequired, status: HTTPResponse.Status) -> ServerResponse {
        finish(ServerResponse.json(status, .object([:]), headers: [.paymentRequired: required.headerValue, .cacheControl: "no-store"]))
    }

    private func v1Required(error: String, accepts: [PaymentRequirementsV1], additionalMembers: JSONObject = [:]) -> ServerResponse {
        let body = PaymentRequiredV1(error: error, accepts: accepts, additionalMembers: additionalMembers)
        return finish(ServerResponse.json(.paymentRequired, body.json, headers: [.cacheControl: "no-store"]))
    }

    private func settlementHeaders(_ settlement: SettleResponse, version: X402Version) -> HTTPFields {
        var headers = corsHeaders()
        headers[version == .v1 ? .xPaymentResponse : .paymentResponse] = settlement.headerValue
        // A paid response is for the payer only (merged with the handler's own by mergePaymentRelease).
        headers[.cacheControl] = "private"
        headers[.vary] = PaidResponseCaching.varyHeaders.joined(separator: ", ")
        return headers
    }

    /// A response served on a sign-in is for that wallet only, as a paid one is.
    private func signedInHeaders() -> HTTPFields {
        var headers = corsHeaders()
        headers[.cacheControl] = "private"
        headers[.vary] = PaidResponseCaching.varyHeaders.joined(separator: ", ")
        return headers
    }

    private func corsHeaders() -> HTTPFields {
        guard exposesHeadersForCORS else { return [:] }
        return [
            .accessControlExposeHeaders: [
                PaymentHeaderName.paymentRequired, PaymentHeaderName.paymentResponse, PaymentHeaderName.xPaymentResponse,
            ].joined(separator: ", ")
        ]
    }

    private func finish(_ response: ServerResponse) -> ServerResponse {
        var r = response
        for field in corsHeaders() { r.headers[field.name] = field.value }
        return r
    }
}
