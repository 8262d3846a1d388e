package import X402

/// The payer every scripted verification names (`testPayer` in the core tests, `payer` in the seller tests).
package let testPayer = "0x857b06519E91e3A54538791bDbb0E22373e36b66"
/// The address every test seller is paid to (`testPayTo` in the core tests, `payTo` in the seller tests).
package let testPayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
/// ``testPayer`` under the name the seller tests use.
package let payer = testPayer
/// ``testPayTo`` under the name the seller tests use.
package let payTo = testPayTo

/// A facilitator whose answers are scripted per test, recording every call (the fault-injection seam).
///
/// By default every payment verifies (for ``testPayer``) and settles with transaction `0xfeed`;
/// ``seller(settle:fault:)`` is the script of the seller tests.
package actor ScriptedFacilitator: FacilitatorClient {
    package typealias VerifyScript = @Sendable (FacilitatorRequest) -> Result<VerifyResponse, FacilitatorClientError>
    package typealias SettleScript = @Sendable (FacilitatorRequest) -> Result<SettleResponse, FacilitatorClientError>

    package var verifyAnswer: VerifyScript
    package var settleAnswer: SettleScript
    package var supportedAnswer: Result<SupportedResponse, FacilitatorClientError>
    /// Suspension points inside each call, so concurrent requests interleave.
    package var yields: Int = 0
    package private(set) var verifyCalls: [FacilitatorRequest] = []
    package private(set) var settleCalls: [FacilitatorRequest] = []
    package private(set) var events: [String] = []
    /// The transactions of the settlements that succeeded, in order.
    package private(set) var settled: [String] = []

    /// How many times `verify` was called.
    package var verifies: Int { verifyCalls.count }
    /// How many times `settle` was called.
    package var settles: Int { settleCalls.count }

    package init(
        verify: @escaping VerifyScript = { _ in .success(.valid(payer: testPayer)) },
        settle: @escaping SettleScript = { r in
            .success(SettleResponse(success: true, transaction: "0xfeed", network: r.paymentRequirements.networkIdentifier, payer: testPayer))
        },
        supported: Result<SupportedResponse, FacilitatorClientError> = .success(
            SupportedResponse(kinds: [SupportedKind(x402Version: .v2, scheme: "exact", network: "eip155:84532")]))
    ) {
        verifyAnswer = verify
        settleAnswer = settle
        supportedAnswer = supported
    }

    package func setYields(_ n: Int) { yields = n }
    package func setVerify(_ f: @escaping VerifyScript) { verifyAnswer = f }
    package func setSettle(_ f: @escaping SettleScript) { settleAnswer = f }
    package func note(_ event: String) { events.append(event) }

    package func verify(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> VerifyResponse {
        verifyCalls.append(request)
        events.append("verify")
        for _ in 0..<yields { await Task.yield() }
        return try verifyAnswer(request).get()
    }

    package func settle(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> SettleResponse {
        settleCalls.append(request)
        events.append("settle")
        for _ in 0..<yields { await Task.yield() }
        let answer = try settleAnswer(request).get()
        if answer.success { settled.append(answer.transaction) }
        return answer
    }

    package func supported() async throws(FacilitatorClientError) -> SupportedResponse {
        try supportedAnswer.get()
    }
}

extension ScriptedFacilitator {
    /// The seller tests' facilitator: a payment signed `0xsigned` is valid for ``payer``, any other
    /// signature is `invalid_exact_evm_payload_signature`; settlement succeeds with transaction `0xabc`
    /// unless `settle` is given; `fault`, when given, is thrown by both calls.
    package static func seller(settle: SettleResponse? = nil, fault: FacilitatorClientError? = nil) -> ScriptedFacilitator {
        ScriptedFacilitator(
            verify: { request in
                if let fault { return .failure(fault) }
                guard request.paymentPayload.payload["signature"] == "0xsigned" else {
                    return .success(.invalid("invalid_exact_evm_payload_signature"))
                }
                return .success(.valid(payer: payer))
            },
            settle: { request in
                if let fault { return .failure(fault) }
                return .success(
                    settle
                        ?? SettleResponse(success: true, transaction: "0xabc", network: request.paymentRequirements.networkIdentifier, payer: payer))
            })
    }
}

/// The `PAYMENT-SIGNATURE` value paying the first offer of a 402's `PAYMENT-REQUIRED`, signed the way
/// ``ScriptedFacilitator/seller(settle:fault:)`` accepts (`0xsigned`, from ``payer``).
package func signature(for paymentRequiredHeader: String, nonce: String = "0x01") throws -> String {
    let required = try PaymentRequired(headerValue: paymentRequiredHeader)
    let payment = PaymentPayload(
        resource: required.resource, accepted: required.accepts[0],
        payload: ["signature": "0xsigned", "authorization": ["from": .string(payer), "nonce": .string(nonce)]])
    return payment.headerValue
}

/// A scheme server for tests: prices through the standard asset table (USDC on the EVM networks).
package struct USDCServer: SchemeServer {
    package init() {}
    package var scheme: String { "exact" }
    package func assetAmount(for price: Price, on network: Network) throws -> AssetAmount { try AssetRegistry.standard.resolve(price, on: network) }
}
