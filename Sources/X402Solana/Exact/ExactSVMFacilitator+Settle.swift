import Foundation
public import X402

extension ExactSVMFacilitator {
    /// Verifies again (simulation included), then co-signs, sends and confirms — once per message.
    ///
    /// * A message being settled in this process, or under another instance's exclusion, answers
    ///   `duplicate_settlement`.
    /// * A message already settled answers success with the same signature only to the request that
    ///   owns the settlement (the same `Idempotency-Key`); every other request, and every repeat
    ///   without a key, gets `duplicate_settlement` carrying the signature. Nothing is sent again.
    /// * A transaction the node already knows is confirmed, not re-sent; one whose status carries an
    ///   error is `invalid_transaction_state`; one whose blockhash expired is
    ///   `settle_exact_svm_block_height_exceeded`; one still unconfirmed after the polls is
    ///   `settlement_pending` with its signature (a repeated request resumes it).
    public func settle(_ payload: AnyPaymentPayload, requirements: AnyPaymentRequirements) async -> SettleResponse {
        let network = payload.networkIdentifier
        let payment: CheckedPayment
        do {
            payment = try check(payload, requirements)
        } catch {
            return .failure(error.reason, message: error.message, network: network, payer: error.payer)
        }
        let owner = SettlementIdempotency.acceptableCurrent
        switch state.claim(payment.key, now: now(), window: options.duplicateWindow) {
        case .inFlight:
            return .failure(
                .duplicateSettlement, message: "this transaction is being settled for another request", network: network, payer: payment.payer)
        case .settled(let signature, let recordedOwner, _):
            return Self.settledAnswer(signature: signature, recordedOwner: recordedOwner, owner: owner, network: network, payer: payment.payer)
        case nil:
            break
        }
        let response: SettleResponse
        if let exclusion {
            do {
                response = try await exclusion.exclusively(payment: payment.key) { await self.run(payment, owner: owner, network: network) }
            } catch {
                response = .failure(.unexpectedSettleError, message: "settlement exclusion failed: \(error)", network: network, payer: payment.payer)
            }
        } else {
            response = await run(payment, owner: owner, network: network)
        }
        state.finish(payment.key, signature: response.success ? response.transaction : nil, owner: owner, now: now())
        return response
    }

    /// The answer for a message that is already settled: a success only for the request that owns
    /// the settlement (the same `Idempotency-Key`), as on EVM. Without keys every repeat is a
    /// `duplicate_settlement` carrying the signature, so a seller without its own replay store
    /// (the reference SDK's) never serves one payment twice.
    static func settledAnswer(signature: String, recordedOwner: String?, owner: String?, network: String, payer: String) -> SettleResponse {
        settledAnswer(signature: signature, owns: owner != nil && owner == recordedOwner, network: network, payer: payer)
    }

    /// A success when the request `owns` the settlement, else `duplicate_settlement` with the signature.
    static func settledAnswer(signature: String, owns: Bool, network: String, payer: String) -> SettleResponse {
        guard owns else {
            return .failure(
                .duplicateSettlement, message: "this transaction was already settled", network: network, payer: payer, transaction: signature)
        }
        return SettleResponse(success: true, transaction: signature, network: network, payer: payer)
    }

    /// What the node says of a signature.
    enum Landing {
        case unknown
        case processed
        case confirmed
        case failed(String)
    }

    func landing(of signature: String, node: any SolanaRPC) async -> Landing {
        guard let statuses = try? await node.signatureStatuses([signature]), let first = statuses.first, let status = first else {
            return .unknown
        }
        if let error = status.error { return .failed(error.serialized(limit: 512)) }
        switch status.confirmationStatus {
        case .confirmed, .finalized: return .confirmed
        case .processed: return .processed
        case nil: return status.confirmations == nil ? .confirmed : .processed  // rooted on nodes that omit the status
        }
    }

    /// One settlement run (under the exclusion when there is one).
    func run(_ payment: CheckedPayment, owner: String?, network: String) async -> SettleResponse {
        let payer = payment.payer
        let signed = cosigned(payment)
        let signature = signed.id
        let recorded: SchemeSettlementRow?
        do {
            recorded = try await records.schemeRecord(key: payment.key)
        } catch {
            return .failure(.unexpectedSettleError, message: "settlement record store failed: \(error)", network: network, payer: payer)
        }
        let recordedOwner = recorded.flatMap { Self.owner(inDetail: $0.detail) }
        if let recorded {
            switch recorded.status {
            case "succeeded":
                return Self.settledAnswer(signature: recorded.transaction, recordedOwner: recordedOwner, owner: owner, network: network, payer: payer)
            case "failed":
                return .failure(
                    ErrorReason(rawValue: recorded.reason ?? ErrorReason.transactionFailed.rawValue), message: recorded.message, network: network,
                    payer: payer, transaction: recorded.transaction)
            default:
                break  // pending: resume with the same signed bytes (same signature, so it cannot land twice)
            }
        }
        let runOwner = recorded == nil ? owner : recordedOwner
        // This request owns the run when it starts it, or when it resumes its own pending record.
        let owns = recorded == nil || (owner != nil && owner == recordedOwner)

        // Already on chain (a retry after a lost answer, or a crash after sending)?
        var sent = false
        switch await landing(of: signature, node: payment.node) {
        case .confirmed:
            await save(payment, signature: signature, status: "succeeded", owner: runOwner)
            return Self.settledAnswer(signature: signature, owns: owns, network: network, payer: payer)
        case .failed(let error):
            await save(payment, signature: signature, status: "failed", reason: .invalidTransactionState, message: error, owner: runOwner)
            return .failure(.invalidTransactionState, message: error, network: network, payer: payer, transaction: signature)
        case .processed:
            sent = true
        case .unknown:
            break
        }

        var bound: UInt64?
        if !sent {
            do {
                try await checkOnChain(payment)
            } catch {
                return .failure(error.reason, message: error.message, network: network, payer: payer)
            }
            // The latest blockhash's last valid height bounds ours (older, so never valid longer).
            bound = try? await payment.node.latestBlockhash(commitment: options.commitment).lastValidBlockHeight
            if let given = payment.requirements.extra?["lastValidBlockHeight"], let text = given.numberText ?? given.stringValue,
                let height = UInt64(text)
            {
                bound = Swift.min(bound ?? height, height)
            }
            await save(payment, signature: signature, status: "pending", owner: runOwner)
            do {
                _ = try await payment.node.sendTransaction(signed.base64, skipPreflight: false, preflightCommitment: options.commitment)
            } catch {
                // It may have landed anyway (e.g. "already processed"): look once before failing.
                if case .unknown = await landing(of: signature, node: payment.node) {
                    try? await records.removeSchemeRecord(key: payment.key)
                    return .failure(.transactionFailed, message: error.description, network: network, payer: payer)
                }
            }
        }
        return await confirm(payment, signature: signature, bound: bound, owns: owns, runOwner: runOwner, network: network)
    }

    func confirm(
        _ payment: CheckedPayment, signature: String, bound: UInt64?, owns: Bool, runOwner: String?, network: String
    ) async -> SettleResponse {
        let payer = payment.payer
        for attempt in 0..<Swift.max(1, options.confirmationAttempts) {
            if attempt > 0 { try? await Task.sleep(for: options.confirmationInterval) }
            switch await landing(of: signature, node: payment.node) {
            case .confirmed:
                await save(payment, signature: signature, status: "succeeded", owner: runOwner)
                return Self.settledAnswer(signature: signature, owns: owns, network: network, payer: payer)
            case .failed(let error):
                await save(payment, signature: signature, status: "failed", reason: .invalidTransactionState, message: error, owner: runOwner)
                return .failure(.invalidTransactionState, message: error, network: network, payer: payer, transaction: signature)
            case .processed, .unknown:
                guard let bound, let height = try? await payment.node.blockHeight(commitment: options.commitment), height > bound else {
                    continue
                }
                // Past the blockhash's last valid height: one last look, then it can never land.
                if case .confirmed = await landing(of: signature, node: payment.node) {
                    await save(payment, signature: signature, status: "succeeded", owner: runOwner)
                    return Self.settledAnswer(signature: signature, owns: owns, network: network, payer: payer)
                }
                let message = "block height \(height) passed the blockhash's last valid height \(bound)"
                await save(payment, signature: signature, status: "failed", reason: .exactSVMBlockHeightExceeded, message: message, owner: runOwner)
                return .failure(.exactSVMBlockHeightExceeded, message: message, network: network, payer: payer, transaction: signature)
            }
        }
        return .failure(
            .settlementPending, message: "not confirmed after \(options.confirmationAttempts) polls", network: network, payer: payer,
            transaction: signature)
    }

    func save(
        _ payment: CheckedPayment, signature: String, status: String, reason: ErrorReason? = nil, message: String? = nil, owner: String?
    ) async {
        var detail: String?
        if let owner { detail = JSONValue.object(["owner": .string(owner)]).serializedString() }
        let row = SchemeSettlementRow(
            key: payment.key, transaction: signature, status: status, reason: reason?.rawValue, message: message,
            updatedAt: Int64(now().timeIntervalSince1970), detail: detail)
        try? await records.saveSchemeRecord(row)
    }

    static func owner(inDetail detail: String?) -> String? {
        guard let detail, let json = try? JSONValue(parsing: detail) else { return nil }
        return json["owner"]?.stringValue
    }
}

extension JSONValue {
    /// The literal text of a number.
    var numberText: String? {
        if case .number(let n) = self { return n.description }
        return nil
    }
}
