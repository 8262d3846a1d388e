import Foundation
import NIOConcurrencyHelpers
public import X402

/// A value set in a `beforeBroadcast` step (the signed bytes, a replacement record) and read after the submission.
final class ManagedValue<Value: Sendable>: Sendable {
    private let box = NIOLockedValueBox<Value?>(nil)
    var value: Value? { box.withLockedValue { $0 } }
    func set(_ value: Value) { box.withLockedValue { $0 = value } }
}

typealias ManagedRaw = ManagedValue<[UInt8]>

/// How one settlement ended, independent of the request's wire form.
enum SettlementOutcome: Sendable {
    case success(transaction: Bytes32)
    case failure(reason: ErrorReason, message: String?, transaction: Bytes32?)

    func response(network: String, payer: String?) -> SettleResponse {
        switch self {
        case .success(let transaction):
            SettleResponse(success: true, transaction: transaction.hexString, network: network, payer: payer)
        case .failure(let reason, let message, let transaction):
            .failure(reason, message: message, network: network, payer: payer, transaction: transaction?.hexString ?? "")
        }
    }
}

extension ExactEVMFacilitator {
    public func settle(_ payload: AnyPaymentPayload, requirements: AnyPaymentRequirements) async -> SettleResponse {
        let network = payload.networkIdentifier
        let hint = Self.payerHint(payload)
        let payment: CheckedPayment
        do {
            // Everything the signature binds is checked before any record is consulted, so a
            // recorded result is only ever returned for the very same transfer.
            payment = try await check(payload, requirements, timeWindow: false)
        } catch {
            switch error {
            case .invalid(let reason, let message): return .failure(reason, message: message, network: network, payer: hint)
            case .unexpected(let message): return .failure(.unexpectedSettleError, message: message, network: network, payer: hint)
            }
        }
        let owner = SettlementIdempotency.acceptableCurrent
        let (outcome, joined, runOwner) = await inFlight.run(payment.key, owner: owner) { await self.execute(payment, owner: owner) }
        if joined, owner == nil || owner != runOwner {
            // Shared another request's run: only that request owns the settlement.
            return Self.duplicate(of: outcome).response(network: network, payer: payment.payer)
        }
        return outcome.response(network: network, payer: payment.payer)
    }

    /// The answer for a request that does not own the settlement whose outcome is `outcome`: never
    /// a success, and it carries the transaction.
    static func duplicate(of outcome: SettlementOutcome) -> SettlementOutcome {
        switch outcome {
        case .success(let transaction):
            return .failure(
                reason: .exactEVMNonceAlreadyUsed,
                message: "this authorization was already settled by transaction \(transaction.hexString) for another request",
                transaction: transaction)
        case .failure(.settlementPending, _, let transaction?):
            return .failure(
                reason: .duplicateSettlement,
                message: "a settlement of this authorization is under way (transaction \(transaction.hexString)) for another request",
                transaction: transaction)
        case .failure:
            return outcome
        }
    }

    /// Settles a checked payment once.
    ///
    /// A recorded success is returned as a success only to its owner (the request presenting the
    /// same settlement id); every other request gets ``duplicate(of:)``. A pending settlement is
    /// resumed by its owner: the receipt is looked up, the signed bytes are broadcast again, and a
    /// new transaction is sent only when the earlier one can no longer mine.
    func execute(_ payment: CheckedPayment, owner: String?) async -> SettlementOutcome {
        let key = payment.key
        let existing: SettlementRecord?
        do {
            existing = try await records.record(for: key)
        } catch {
            return .failure(reason: .unexpectedSettleError, message: "settlement record store failed: \(error)", transaction: nil)
        }
        var earlier: [Bytes32] = []
        if let existing {
            let owns = owner != nil && existing.owner == owner
            switch existing.status {
            case .succeeded:
                let outcome = SettlementOutcome.success(transaction: existing.transaction)
                return owns ? outcome : Self.duplicate(of: outcome)
            case .failed(let reason, let message):
                return .failure(reason: reason, message: message, transaction: existing.transaction)
            case .pending:
                guard owns else {
                    return Self.duplicate(of: .failure(reason: .settlementPending, message: nil, transaction: existing.transaction))
                }
                switch await resume(payment, record: existing) {
                case .finished(let outcome): return outcome
                case .dropped(let record):
                    earlier = Array((record.earlierTransactions + [record.transaction]).suffix(SettlementRecord.maximumEarlierTransactions))
                }
            }
        }
        do {
            try checkTimeWindow(payment)
            if options.simulateInSettle { try await simulate(payment) }
        } catch {
            return Self.outcome(error, unexpected: .unexpectedSettleError)
        }
        if let deployment = payment.deployment, let failure = await deploy(deployment, for: payment) {
            return failure
        }
        if options.checkAuthorizationStateBeforeSending, !options.simulateInSettle {
            switch await authorizationState(payment) {
            case .unused: break
            case .used:
                return .failure(reason: .exactEVMNonceAlreadyUsed, message: "authorization was already used on-chain", transaction: nil)
            case .unsupported:
                return .failure(reason: .exactEVMEIP3009NotSupported, message: "the token has no authorizationState", transaction: nil)
            case .unknown(let message):
                return .failure(reason: .unexpectedSettleError, message: message, transaction: nil)
            }
        }
        return await send(payment, owner: owner, earlier: earlier)
    }

    enum Resumption {
        case finished(SettlementOutcome)
        /// The recorded transaction can no longer mine (its nonce went to another transaction) and
        /// the authorization is unused: a new transaction may be sent.
        case dropped(SettlementRecord)
    }

    /// Carries a pending settlement forward without ever sending a second transaction that could
    /// mine beside the first.
    func resume(_ payment: CheckedPayment, record: SettlementRecord) async -> Resumption {
        let chain = payment.chain
        if let receipt = try? await chain.client.transactionReceipt(record.transaction) {
            return .finished(await conclude(payment, record: record, receipt: receipt))
        }
        if let raw = record.rawTransaction {
            switch await chain.signers.rebroadcast(raw) {
            case .nonceConsumed:
                if let receipt = try? await chain.client.transactionReceipt(record.transaction) {
                    return .finished(await conclude(payment, record: record, receipt: receipt))
                }
                // Another transaction took the nonce and this one has no receipt: it cannot mine.
                switch await authorizationState(payment) {
                case .unused:
                    do { try checkTimeWindow(payment) } catch { return .finished(Self.outcome(error, unexpected: .unexpectedSettleError)) }
                    return .dropped(record)
                case .used:
                    return .finished(await usedElsewhere(payment, record: record))
                case .unsupported, .unknown:
                    break
                }
            case .known:
                // Only a transaction of this payment alone: a batch's records are one per payment,
                // and a replacement known to one of them only would leave the others unable to
                // find the transaction that paid them.
                if let after = options.replaceStuckTransactionsAfter, case let (due, overflow) = record.updatedAt.addingReportingOverflow(after),
                    !overflow, clock.now >= due,
                    let sent = try? SignedTransaction(rawBytes: raw), case .eip1559(let body) = sent.body, body.to == payment.token
                {
                    return .finished(await replaceStuck(payment, record: record, raw: raw))
                }
            case .nonceOccupied, .failed:
                break
            }
        }
        return .finished(await awaitReceipt(payment, record: record))
    }

    /// Replaces a transaction the node holds unmined with a fee bump (same nonce, so only one of
    /// the two can mine) and waits for the receipt. The replacement's hash and bytes are recorded
    /// before it is sent, with the original kept among the earlier transactions, so whichever of
    /// the two mines is found; if nothing new was sent the record is put back as it was.
    private func replaceStuck(_ payment: CheckedPayment, record: SettlementRecord, raw: [UInt8]) async -> SettlementOutcome {
        let records = self.records
        let now = clock.now
        let bumped = ManagedValue<SettlementRecord>()
        let replacement = await payment.chain.signers.replace(raw) { prepared in
            var next = record
            next.transaction = prepared.hash
            next.rawTransaction = prepared.rawBytes
            next.earlierTransactions = Array((record.earlierTransactions + [record.transaction]).suffix(SettlementRecord.maximumEarlierTransactions))
            next.updatedAt = now
            try await records.save(next)
            bumped.set(next)
        }
        switch replacement {
        case .sent:
            guard let next = bumped.value else { return await awaitReceipt(payment, record: record) }
            return await awaitReceipt(payment, record: next)
        case .nonceConsumed, .notReplaced:
            // Nothing new reached the node: the original stands.
            if bumped.value != nil { try? await records.save(record) }
            return await awaitReceipt(payment, record: record)
        }
    }

    /// The authorization is used on-chain, but not by the recorded transaction: a success if one
    /// of the earlier transactions moved the money, else a failure naming no transaction of ours.
    private func usedElsewhere(_ payment: CheckedPayment, record: SettlementRecord) async -> SettlementOutcome {
        if let hash = await successfulEarlier(payment, record: record) {
            var settled = record
            settled.transaction = hash
            settled.status = .succeeded
            settled.rawTransaction = nil
            settled.updatedAt = clock.now
            try? await records.save(settled)
            return .success(transaction: hash)
        }
        return .failure(
            reason: .exactEVMNonceAlreadyUsed, message: "the authorization was used on-chain by a transaction this facilitator did not send",
            transaction: nil)
    }

    /// An earlier transaction of `record` that mined with the expected `Transfer`, if any.
    private func successfulEarlier(_ payment: CheckedPayment, record: SettlementRecord) async -> Bytes32? {
        for hash in record.earlierTransactions.reversed() where hash != record.transaction {
            guard let receipt = try? await payment.chain.client.transactionReceipt(hash) else { continue }
            if Self.settles(receipt, payment) { return hash }
        }
        return nil
    }

    /// Deploys the payer's wallet from its ERC-6492 factory data unless it has code by now;
    /// returns a failure outcome, or `nil` when the wallet is deployed.
    private func deploy(_ deployment: ERC6492Signature, for payment: CheckedPayment) async -> SettlementOutcome? {
        let chain = payment.chain
        let wallet = payment.authorization.from
        if let code = try? await chain.client.code(at: wallet, at: .pending), !code.isEmpty { return nil }
        // `check` has already proved the wrapped signature valid by simulation and the factory
        // allowlisted; this is a second guard so no other path can reach the hot key.
        guard options.deployERC6492Wallets, options.erc6492Factories.contains(deployment.factory) else {
            return .failure(
                reason: .erc6492FactoryNotAllowed, message: "ERC-6492 factory \(deployment.factory.checksummed) is not allowlisted",
                transaction: nil)
        }
        let call = CallRequest(from: chain.signers.addresses[0], to: deployment.factory, data: deployment.factoryCalldata)
        let gasLimit: UInt64
        do {
            let estimate = try await chain.client.estimateGas(call)
            guard let limit = self.gasLimit(estimate: estimate, ceiling: options.maximumDeploymentGas) else {
                return .failure(
                    reason: .gasLimitExceeded,
                    message: "the deployment needs \(estimate) gas, above this facilitator's ceiling of \(options.maximumDeploymentGas)",
                    transaction: nil)
            }
            gasLimit = limit
        } catch {
            return .failure(reason: .smartWalletDeploymentFailed, message: "factory call fails: \(Self.revertText(error))", transaction: nil)
        }
        let submitted: SubmittedTransaction
        do {
            submitted = try await chain.signers.submit(to: deployment.factory, data: deployment.factoryCalldata, gasLimit: gasLimit)
        } catch {
            return .failure(reason: .smartWalletDeploymentFailed, message: error.description, transaction: nil)
        }
        let receipt = try? await chain.receipts.receipt(of: submitted.hash, timeout: options.receiptTimeout)
        await chain.signers.finished(submitted)
        if let receipt { gasSpent(chain.network, receipt.gasUsed) }
        guard let receipt, receipt.succeeded else {
            return .failure(
                reason: .smartWalletDeploymentFailed,
                message: receipt == nil ? "deployment transaction was not mined in time" : "deployment transaction reverted",
                transaction: submitted.hash)
        }
        guard let code = try? await chain.client.code(at: wallet, at: .latest), !code.isEmpty else {
            return .failure(
                reason: .smartWalletDeploymentFailed, message: "the factory call did not deploy \(wallet.checksummed)",
                transaction: submitted.hash)
        }
        return nil
    }

    /// Sends the transfer: in a batch when batching is on and the payer is an EOA, else alone.
    private func send(_ payment: CheckedPayment, owner: String?, earlier: [Bytes32]) async -> SettlementOutcome {
        if payment.innerSignature.count == 65, !payment.contractWallet, payment.deployment == nil,
            let batcher = batchers[payment.chain.network]
        {
            let entry = SettlementBatcher.Entry(payment: payment, owner: owner, earlier: earlier)
            return await batcher.settle(entry) { entries in await self.settleBatch(entries) }
        }
        return await sendAlone(payment, owner: owner, earlier: earlier)
    }

    /// Sends one transaction with this payment's transfer alone.
    func sendAlone(_ payment: CheckedPayment, owner: String?, earlier: [Bytes32]) async -> SettlementOutcome {
        let chain = payment.chain
        let data = EIP3009Calls.transfer(payment.authorization, signature: payment.innerSignature)
        var gasLimit = options.transferGasLimit
        if payment.innerSignature.count != 65 || payment.contractWallet {
            do {
                // Estimating is the contract wallet's simulation in settle; above the ceiling nothing is sent.
                let estimate = try await chain.client.estimateGas(CallRequest(from: chain.signers.addresses[0], to: payment.token, data: data))
                guard let limit = self.gasLimit(estimate: estimate, ceiling: options.maximumContractWalletGas) else {
                    return .failure(
                        reason: .gasLimitExceeded,
                        message: "the transfer needs \(estimate) gas, above this facilitator's ceiling of \(options.maximumContractWalletGas)",
                        transaction: nil)
                }
                gasLimit = limit
            } catch {
                guard case .node = error else {
                    return .failure(reason: .unexpectedSettleError, message: "gas estimation failed: \(error)", transaction: nil)
                }
                let text = Self.revertText(error)
                return .failure(reason: Self.reason(forRevert: text), message: text, transaction: nil)
            }
        }
        let key = payment.key
        let records = self.records
        let clock = self.clock
        @Sendable func record(_ hash: Bytes32, from: EthereumAddress, nonce: UInt64, raw: [UInt8]) -> SettlementRecord {
            SettlementRecord(
                key: key, transaction: hash, status: .pending, updatedAt: clock.now, owner: owner, sender: from, senderNonce: nonce,
                rawTransaction: raw, earlierTransactions: earlier)
        }
        let submitted: SubmittedTransaction
        let raw = ManagedRaw()
        do {
            // The pending record (hash and signed bytes) is durable before anything is broadcast.
            submitted = try await chain.signers.submit(to: payment.token, data: data, gasLimit: gasLimit) { prepared in
                try await records.save(record(prepared.hash, from: prepared.from, nonce: prepared.nonce, raw: prepared.rawBytes))
                raw.set(prepared.rawBytes)
                SettlementCrashPoint.beforeBroadcast.reach()
            }
        } catch {
            // Nothing was broadcast: forget the record written (or perhaps written: a write that
            // failed may still have committed) for a transaction that never left.
            if raw.value != nil || { if case .notRecorded = error { true } else { false } }() { try? await records.remove(key) }
            if case .rejected(let nodeError) = error {
                let text = Self.revertText(nodeError)
                return .failure(reason: Self.reason(forRevert: text), message: "transaction rejected: \(text)", transaction: nil)
            }
            if case .notRecorded(let problem) = error {
                return .failure(
                    reason: .unexpectedSettleError, message: "the settlement could not be recorded, so nothing was sent: \(problem)",
                    transaction: nil)
            }
            return .failure(reason: .exactEVMTransactionFailed, message: error.description, transaction: nil)
        }
        SettlementCrashPoint.afterBroadcast.reach()
        let pending = record(submitted.hash, from: submitted.from, nonce: submitted.nonce, raw: raw.value ?? [])
        let outcome = await awaitReceipt(payment, record: pending)
        await chain.signers.finished(submitted)
        return outcome
    }

    /// Waits for the receipt of `record`'s transaction, then ``conclude(_:record:receipt:)``.
    private func awaitReceipt(_ payment: CheckedPayment, record: SettlementRecord) async -> SettlementOutcome {
        switch await receipt(of: record.transaction, on: payment.chain) {
        case .failure(let pending): return pending.outcome
        case .success(let receipt): return await conclude(payment, record: record, receipt: receipt)
        }
    }

    /// A transaction's receipt (its gas counted), or the `settlement_pending` outcome when it is
    /// not mined within ``Options/receiptTimeout`` or cannot be read.
    func receipt(of hash: Bytes32, on chain: EVMFacilitatorChain) async -> Result<TransactionReceipt, PendingOutcome> {
        let receipt: TransactionReceipt?
        do {
            receipt = try await chain.receipts.receipt(of: hash, timeout: options.receiptTimeout)
        } catch {
            return .failure(
                PendingOutcome(
                    outcome: .failure(
                        reason: .settlementPending,
                        message: "transaction \(hash.hexString) was sent but its receipt could not be read (\(error)); look it up later",
                        transaction: hash)))
        }
        guard let receipt else {
            return .failure(
                PendingOutcome(
                    outcome: .failure(
                        reason: .settlementPending,
                        message:
                            "transaction \(hash.hexString) was sent but not mined within \(options.receiptTimeout); look it up later or settle again to re-check",
                        transaction: hash)))
        }
        gasSpent(chain.network, receipt.gasUsed)
        return .success(receipt)
    }

    /// Whether a mined transaction moved this payment's money: for a transaction to the token
    /// itself its `Transfer(from, to, value)`; for any other (a Multicall3 batch) the token's
    /// `AuthorizationUsed(from, nonce)` next to that `Transfer`, so another payment of the batch
    /// with the same payer, payee and value cannot stand in for this one.
    static func settles(_ receipt: TransactionReceipt, _ payment: CheckedPayment) -> Bool {
        guard receipt.succeeded else { return false }
        let a = payment.authorization
        if receipt.to == payment.token {
            return EIP3009Calls.containsTransfer(receipt.logs, token: payment.token, from: a.from, to: a.to, value: a.value)
        }
        return EIP3009Calls.settlesAuthorization(receipt.logs, token: payment.token, a)
    }

    /// Confirms the `Transfer` log of a mined transaction, records and returns the result. A
    /// nonce-used revert is a success when an earlier transaction of the record moved the money.
    func conclude(_ payment: CheckedPayment, record: SettlementRecord, receipt: TransactionReceipt) async -> SettlementOutcome {
        let hash = record.transaction
        var outcome: SettlementOutcome
        var final = record
        if Self.settles(receipt, payment) {
            outcome = .success(transaction: hash)
            final.status = .succeeded
        } else if receipt.succeeded, receipt.to == payment.token {
            let message = "transaction succeeded but emitted no Transfer(from, to, value) from the token"
            outcome = .failure(reason: .exactEVMTransactionFailed, message: message, transaction: hash)
            final.status = .failed(reason: .exactEVMTransactionFailed, message: message)
        } else {
            // Reverted, or (in a batch) this payment's call failed while others succeeded.
            let (reason, message) = await revertCause(payment)
            if receipt.to != payment.token, reason == .exactEVMTransactionFailed, case .unused = await authorizationState(payment) {
                // A batch mined without this transfer (out of gas, say) while the authorization
                // is still unused: nothing moved and that transaction can never move it. The
                // record is dropped so that the payment can be settled again, and the answer names
                // no transaction (none moved this payment), so a journal does not take it as final.
                try? await records.remove(record.key)
                return .failure(
                    reason: .exactEVMTransactionFailed,
                    message: "batch transaction \(hash.hexString) was mined without this transfer; nothing was transferred, settle again",
                    transaction: nil)
            }
            outcome = .failure(reason: reason, message: message, transaction: hash)
            final.status = .failed(reason: reason, message: message)
            if reason == .exactEVMNonceAlreadyUsed, let earlier = await successfulEarlier(payment, record: record) {
                outcome = .success(transaction: earlier)
                final.status = .succeeded
                final.transaction = earlier
            }
        }
        final.rawTransaction = nil
        final.updatedAt = clock.now
        try? await records.save(final)
        SettlementCrashPoint.afterRecord.reach()
        return outcome
    }

    /// Why a mined transfer reverted: replays it with `eth_call` and maps the revert text.
    func revertCause(_ payment: CheckedPayment) async -> (ErrorReason, String) {
        let chain = payment.chain
        let data = EIP3009Calls.transfer(payment.authorization, signature: payment.innerSignature)
        do {
            _ = try await chain.client.call(CallRequest(from: chain.signers.addresses[0], to: payment.token, data: data), at: .latest)
            return (.exactEVMTransactionFailed, "transaction reverted (a replay no longer reverts)")
        } catch {
            let text = Self.revertText(error)
            return (Self.reason(forRevert: text), "transaction reverted: \(text)")
        }
    }

    enum AuthorizationState {
        case unused, used, unsupported
        case unknown(String)
    }

    func authorizationState(_ payment: CheckedPayment) async -> AuthorizationState {
        let a = payment.authorization
        let request = CallRequest(to: payment.token, data: EIP3009Calls.authorizationState(a.from, a.nonce))
        do {
            let answer = try await payment.chain.client.call(request, at: .pending)
            guard let used = Self.decodeBool(answer) else { return .unsupported }
            return used ? .used : .unused
        } catch {
            if case .node = error { return .unsupported }
            return .unknown("could not read authorizationState: \(error)")
        }
    }

    static func outcome(_ failure: CheckFailure, unexpected: ErrorReason) -> SettlementOutcome {
        switch failure {
        case .invalid(let reason, let message): .failure(reason: reason, message: message, transaction: nil)
        case .unexpected(let message): .failure(reason: unexpected, message: message, transaction: nil)
        }
    }

    /// Maps a revert text or custom error name to a reason (the reference's case-insensitive rules).
    public static func reason(forRevert text: String) -> ErrorReason {
        let t = text.lowercased()
        func has(_ words: String...) -> Bool { words.allSatisfy { t.contains($0) } }
        if has("authorizationexpired") || (has("authorization") && (has("expired") || has("valid before"))) {
            return .exactEVMValidBefore
        }
        if has("authorizationnotyetvalid") || has("authorization", "not", "valid") { return .exactEVMValidAfter }
        if has("authorizationalreadyused") || has("authorizationusedorcanceled") || has("authorization", "used") {
            return .exactEVMNonceAlreadyUsed
        }
        if has("erc20insufficientbalance") || has("transfer", "exceeds", "balance") || has("insufficient", "balance") {
            return .exactEVMInsufficientBalance
        }
        if has("signermismatch") || has("invalidsignaturev") || has("invalidsignatures") || has("invalid", "signature") {
            return .exactEVMSignature
        }
        return .exactEVMTransactionFailed
    }
}
