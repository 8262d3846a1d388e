import X402

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
        let (outcome, _) = await inFlight.run(payment.key) { await self.execute(payment) }
        return outcome.response(network: network, payer: payment.payer)
    }

    /// Settles a checked payment once: a recorded result is returned as is.
    func execute(_ payment: CheckedPayment) async -> SettlementOutcome {
        let key = payment.key
        let existing: SettlementRecord?
        do {
            existing = try await records.record(for: key)
        } catch {
            return .failure(reason: .unexpectedSettleError, message: "settlement record store failed: \(error)", transaction: nil)
        }
        if let existing {
            switch existing.status {
            case .succeeded: return .success(transaction: existing.transaction)
            case .failed(let reason, let message): return .failure(reason: reason, message: message, transaction: existing.transaction)
            case .pending:
                let outcome = await awaitReceipt(payment, transaction: existing.transaction)
                guard case .failure(.settlementPending, _, _) = outcome else { return outcome }
                // Still nothing mined. If the authorization is unused and still valid, the
                // transaction was most likely lost: send again (a duplicate would only revert).
                guard (try? checkTimeWindow(payment)) != nil, case .unused = await authorizationState(payment) else { return outcome }
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
        return await send(payment)
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

    private func send(_ payment: CheckedPayment) async -> SettlementOutcome {
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
        let submitted: SubmittedTransaction
        do {
            submitted = try await chain.signers.submit(to: payment.token, data: data, gasLimit: gasLimit)
        } catch {
            if case .rejected(let nodeError) = error {
                let text = Self.revertText(nodeError)
                return .failure(reason: Self.reason(forRevert: text), message: "transaction rejected: \(text)", transaction: nil)
            }
            return .failure(reason: .exactEVMTransactionFailed, message: error.description, transaction: nil)
        }
        let pending = SettlementRecord(key: payment.key, transaction: submitted.hash, status: .pending, updatedAt: clock.now)
        try? await records.save(pending)
        let outcome = await awaitReceipt(payment, transaction: submitted.hash)
        await chain.signers.finished(submitted)
        return outcome
    }

    /// Waits for the receipt, confirms the `Transfer` log, records and returns the result.
    private func awaitReceipt(_ payment: CheckedPayment, transaction hash: Bytes32) async -> SettlementOutcome {
        let chain = payment.chain
        let receipt: TransactionReceipt?
        do {
            receipt = try await chain.receipts.receipt(of: hash, timeout: options.receiptTimeout)
        } catch {
            return .failure(
                reason: .settlementPending,
                message: "transaction \(hash.hexString) was sent but its receipt could not be read (\(error)); look it up later",
                transaction: hash)
        }
        guard let receipt else {
            return .failure(
                reason: .settlementPending,
                message: "transaction \(hash.hexString) was sent but not mined within \(options.receiptTimeout); look it up later or settle again to re-check",
                transaction: hash)
        }
        let a = payment.authorization
        let outcome: SettlementOutcome
        let status: SettlementRecord.Status
        if receipt.succeeded {
            if EIP3009Calls.containsTransfer(receipt.logs, token: payment.token, from: a.from, to: a.to, value: a.value) {
                outcome = .success(transaction: hash)
                status = .succeeded
            } else {
                let message = "transaction succeeded but emitted no Transfer(from, to, value) from the token"
                outcome = .failure(reason: .exactEVMTransactionFailed, message: message, transaction: hash)
                status = .failed(reason: .exactEVMTransactionFailed, message: message)
            }
        } else {
            let (reason, message) = await revertCause(payment)
            outcome = .failure(reason: reason, message: message, transaction: hash)
            status = .failed(reason: reason, message: message)
        }
        try? await records.save(SettlementRecord(key: payment.key, transaction: hash, status: status, updatedAt: clock.now))
        return outcome
    }

    /// Why a mined transfer reverted: replays it with `eth_call` and maps the revert text.
    private func revertCause(_ payment: CheckedPayment) async -> (ErrorReason, String) {
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
