public import X402

/// The facilitator's side of `exact` on EVM (EIP-3009): verifies payments in the reference
/// order with the reference reason strings, and settles them with its own keys.
///
/// * **Verify** (TS order): scheme → EIP-712 domain in `extra` → network → payload shape →
///   served chain (and the node's chain id) → signature (EOA recovery; ERC-1271 for deployed
///   wallets; ERC-6492 for undeployed ones) → recipient → `validBefore ≥ now + 6` →
///   `validAfter ≤ now` → value → on-chain simulation with a Multicall3 diagnosis on failure.
/// * **Settle**: the same checks without simulation (configurable), then one
///   `transferWithAuthorization` transaction (or one call of a batched transaction, with
///   ``Options/batchSettlements``) per authorization, ever: concurrent duplicates share
///   the run, later duplicates get the recorded result, and an authorization already used on-chain
///   is not sent again.
///
/// Neither operation throws: every failure is a result carrying a reason and the payer.
public struct ExactEVMFacilitator: SchemeFacilitator {
    /// Behaviour switches.
    public struct Options: Sendable, Hashable {
        /// Simulate the transfer with `eth_call` during `/verify` (reference default: on).
        public var simulateInVerify = true
        /// Simulate again during `/settle` before sending (reference default: off).
        public var simulateInSettle = false
        /// `validBefore` must be at least this many seconds in the future (6, as every SDK).
        public var validBeforeBuffer: UInt64 = 6
        /// How long settle waits for the receipt before answering `settlement_pending` with the hash.
        public var receiptTimeout: Duration = .seconds(45)
        /// A settlement transaction the node still holds unmined this many seconds after it was
        /// recorded is replaced with a fee bump (same nonce, fees raised by an eighth, within the
        /// fee caps) when its owner settles again; `nil`: never replaced.
        public var replaceStuckTransactionsAfter: UInt64? = 60
        /// Read `authorizationState(from, nonce)` before sending and skip used authorizations.
        public var checkAuthorizationStateBeforeSending = true
        /// Gas limit of a transfer signed by an EOA: a fixed, safe value (USDC uses ~60–90k), which
        /// saves an `eth_estimateGas` round trip per settlement.
        public var transferGasLimit: UInt64 = 120_000
        /// Contract-wallet transfers (ERC-1271) and wallet deployments run code of unknown cost:
        /// their gas is estimated and raised by this percentage.
        public var estimatedGasHeadroomPercent: UInt64 = 30
        /// Deploy an undeployed smart wallet from its ERC-6492 factory data before the transfer
        /// (reference option `deployERC4337WithEIP6492`, default off). When off, such payments are
        /// rejected with `invalid_exact_evm_payload_undeployed_smart_wallet` by verify and settle
        /// alike, instead of passing verify and failing at settlement.
        public var deployERC6492Wallets = false
        /// The only factories an ERC-6492 wallet may be deployed through (empty by default: no
        /// deployment at all, even with ``deployERC6492Wallets`` on). A deployment is sent only
        /// after one `eth_call` through Multicall3 ran the factory call and the wallet's
        /// `isValidSignature` and got the exact ERC-1271 answer.
        public var erc6492Factories: Set<EthereumAddress> = []
        /// Ceiling on the gas of a contract-wallet transfer (ERC-1271 / ERC-6492): a payment whose
        /// estimate is higher is refused with `gas_limit_exceeded` at verify and settle, and the
        /// gas limit sent is never higher. EOA transfers use ``transferGasLimit``.
        public var maximumContractWalletGas: UInt64 = 250_000
        /// Ceiling on the gas of an ERC-6492 wallet deployment (the factory call).
        public var maximumDeploymentGas: UInt64 = 500_000
        /// Tokens accepted per network besides the registry's (`AssetRegistry/standard` when
        /// ``acceptRegistryAssets`` is on). Any other asset is refused with `asset_not_accepted`.
        public var acceptedAssets: [Network: Set<EthereumAddress>] = [:]
        /// Accept each network's token from `AssetRegistry/standard` (default on).
        public var acceptRegistryAssets = true
        /// Refuse a payment when the network's current `maxFeePerGas` is above the chain's
        /// ``FeePolicy/maximumFeePerGas`` (checked at verify; settle fails the send anyway).
        public var checkFeesInVerify = true
        /// Simulate EOA transfers that arrive within ``simulationWindow`` of each other together, in
        /// one `eth_call` of Multicall3 `aggregate3` (default on). Each payment gets the answer it
        /// would have had alone (where the batch cannot prove that, it is simulated alone); without
        /// Multicall3 on the chain every payment is simulated alone.
        public var coalesceSimulations = true
        /// How long a simulation waits for others to share its `eth_call` (default 2 ms): a lone
        /// request is never delayed by more.
        public var simulationWindow: Duration = .milliseconds(2)
        /// The most transfers simulated in one `eth_call` (default 32); a full batch leaves at once.
        public var maximumSimulationBatch = 32
        /// Send EOA settlements that arrive within ``settlementBatchWindow`` of each other as one
        /// transaction: Multicall3 `aggregate3` (every call allowed to fail) calling
        /// `transferWithAuthorization` once per payment (default off).
        ///
        /// The batch is simulated as a whole right before it is signed and payments that would
        /// fail are left out with their own reason; every payment's pending record is durable
        /// before the broadcast; after the receipt each payment's success is read from the
        /// token's `AuthorizationUsed` and `Transfer` events of that payment alone, so a payment
        /// whose call failed (front-run, expired) fails without failing the others, and every
        /// answer carries the shared transaction hash. A lone settlement, contract wallets and
        /// chains without Multicall3 are sent alone.
        public var batchSettlements = false
        /// How long a settlement waits for others to share its transaction (default 50 ms): a lone
        /// settlement is never delayed by more.
        public var settlementBatchWindow: Duration = .milliseconds(50)
        /// The most transfers in one batched transaction (default 32); a full batch leaves at once.
        public var maximumSettlementBatch = 32

        public init() {}
    }

    public var scheme: String { "exact" }
    public var family: NetworkPattern { NetworkPattern(namespace: "eip155") }

    public let options: Options
    /// Remembers settled authorizations (in memory unless a durable store is given).
    public let records: any SettlementRecordStore
    public let clock: UnixClock
    let chains: [Network: EVMFacilitatorChain]
    let inFlight = InFlightSettlements<SettlementOutcome>()
    /// Per network, the coalescer of simulations (when ``Options/coalesceSimulations`` is on).
    let coalescers: [Network: SimulationCoalescer]
    /// Per network, the batcher of settlements (when ``Options/batchSettlements`` is on).
    let batchers: [Network: SettlementBatcher]
    /// Told the gas of every mined transaction this facilitator sent (deployments and transfers).
    let gasSpent: @Sendable (_ network: Network, _ gasUsed: UInt64) -> Void

    /// A facilitator for the `exact` scheme on the given chains.
    ///
    /// - Parameters:
    ///   - chains: one entry per network: its node client, signer pool and receipt watcher.
    ///   - options: verification and settlement limits (gas ceiling, fee caps, accepted assets, timeouts).
    ///   - records: remembers settled authorizations; give a durable store (SQLite, PostgreSQL) so a
    ///     restart or a second instance never settles the same authorization twice.
    ///   - clock: the time source for validity windows (tests pass a fixed clock).
    ///   - gasSpent: called with the gas used by each mined transaction the facilitator
    ///     paid for (for metrics).
    public init(
        chains: [EVMFacilitatorChain], options: Options = Options(),
        records: any SettlementRecordStore = InMemorySettlementRecordStore(), clock: UnixClock = .system,
        gasSpent: @escaping @Sendable (_ network: Network, _ gasUsed: UInt64) -> Void = { _, _ in }
    ) {
        var table: [Network: EVMFacilitatorChain] = [:]
        for chain in chains { table[chain.network] = chain }
        self.chains = table
        var coalescers: [Network: SimulationCoalescer] = [:]
        if options.coalesceSimulations, options.maximumSimulationBatch > 1 {
            for chain in chains {
                coalescers[chain.network] = SimulationCoalescer(
                    client: chain.client, state: chain.state, caller: chain.signers.addresses[0], window: options.simulationWindow,
                    maximumBatch: options.maximumSimulationBatch)
            }
        }
        self.coalescers = coalescers
        var batchers: [Network: SettlementBatcher] = [:]
        if options.batchSettlements, options.maximumSettlementBatch > 1 {
            for chain in chains {
                batchers[chain.network] = SettlementBatcher(window: options.settlementBatchWindow, maximumBatch: options.maximumSettlementBatch)
            }
        }
        self.batchers = batchers
        self.options = options
        self.records = records
        self.clock = clock
        self.gasSpent = gasSpent
    }

    /// The networks this facilitator serves.
    public var networks: [Network] { chains.keys.sorted() }

    public func signers(for network: Network) -> [String] {
        chains[network]?.signers.addresses.map(\.checksummed) ?? []
    }

    public func supportedExtra(for network: Network) async -> JSONObject? { nil }

    // MARK: Verify

    public func verify(_ payload: AnyPaymentPayload, requirements: AnyPaymentRequirements) async -> VerifyResponse {
        let hint = Self.payerHint(payload)
        do {
            let payment = try await check(payload, requirements, timeWindow: true)
            if options.simulateInVerify { try await simulate(payment) }
            try await checkCosts(payment)
            return .valid(payer: payment.payer)
        } catch {
            switch error {
            case .invalid(let reason, let message): return .invalid(reason, message: message, payer: hint)
            case .unexpected(let message): return .invalid(.unexpectedVerifyError, message: message, payer: hint)
            }
        }
    }

    // MARK: Checks

    /// A payment that passed the offline checks, with everything settlement needs.
    struct CheckedPayment: Sendable {
        let chain: EVMFacilitatorChain
        let requirements: PaymentRequirements
        let authorization: TransferWithAuthorization
        /// The signature as sent (possibly ERC-6492 wrapped).
        let signature: [UInt8]
        /// The signature the token validates (ERC-6492 wrapper removed).
        let innerSignature: [UInt8]
        /// Set when the wallet is not deployed and the signature carries deployment data.
        let deployment: ERC6492Signature?
        /// The payer is a contract wallet (ERC-1271), deployed or to be deployed.
        let contractWallet: Bool
        let token: EthereumAddress
        let amount: UInt256
        let name: String
        let version: String

        var payer: String { authorization.from.checksummed }
        var key: SettlementKey {
            SettlementKey(chainID: chain.chainID, token: token, payer: authorization.from, nonce: authorization.nonce)
        }
    }

    enum CheckFailure: Error {
        case invalid(ErrorReason, String?)
        case unexpected(String)
    }

    /// The offline checks (plus the node calls a signature from a contract wallet needs), in the
    /// reference order. `timeWindow: false` leaves the validity window to the caller.
    func check(
        _ payload: AnyPaymentPayload, _ anyRequirements: AnyPaymentRequirements, timeWindow: Bool
    ) async throws(CheckFailure)
        -> CheckedPayment
    {
        guard payload.version == anyRequirements.version else {
            throw .invalid(.invalidX402Version, "payload is x402 v\(payload.version.rawValue), requirements are v\(anyRequirements.version.rawValue)")
        }
        // 1. Scheme on both sides.
        guard payload.scheme == scheme, anyRequirements.scheme == scheme else {
            throw .invalid(.exactEVMScheme, "scheme must be exact (payload \(payload.scheme), requirements \(anyRequirements.scheme))")
        }
        // v1 requirements carry a network name; an unknown one cannot be mapped to a chain id.
        guard let requirements = anyRequirements.normalized else {
            throw .invalid(.exactEVMNetworkMismatch, "unknown v1 network \(anyRequirements.networkIdentifier)")
        }
        // 2. The token's EIP-712 domain.
        guard let name = requirements.extra?["name"]?.stringValue, let version = requirements.extra?["version"]?.stringValue else {
            throw .invalid(.exactEVMMissingEIP712Domain, "requirements.extra must carry the token's EIP-712 name and version")
        }
        if let method = requirements.extra?["assetTransferMethod"]?.stringValue, method != "eip3009" {
            throw .invalid(.unsupportedPayloadType, "asset transfer method \(method) is not served by this facilitator")
        }
        // 3. Network: what the client paid on must be what the server asks for.
        switch payload {
        case .v2(let p):
            guard p.accepted.network == requirements.network else {
                throw .invalid(.exactEVMNetworkMismatch, "payment is for \(p.accepted.network), requirements for \(requirements.network)")
            }
        case .v1(let p):
            guard p.network == anyRequirements.networkIdentifier else {
                throw .invalid(.exactEVMNetworkMismatch, "payment is for \(p.network), requirements for \(anyRequirements.networkIdentifier)")
            }
        }
        // 4. Payload shape.
        if payload.payload["permit2Authorization"] != nil, payload.payload["authorization"] == nil {
            throw .invalid(.unsupportedPayloadType, "Permit2 payloads are not served by this facilitator")
        }
        let parsed: ExactEVMPayload
        do { parsed = try ExactEVMPayload(json: payload.payload) } catch { throw .invalid(error.reason, error.description) }
        let authorization = parsed.authorization
        // 5. A chain this facilitator serves, and a node on that chain.
        guard let chain = chains[requirements.network] else {
            throw .invalid(.exactEVMFailedToGetNetworkConfig, "network \(requirements.network) is not served by this facilitator")
        }
        // The stale chain facts this verification needs (chain id; the token's code and domain and
        // Multicall3's code when the asset is one this facilitator accepts) are read in one batch.
        let prefetch = (try? EthereumAddress(requirements.asset, validatingChecksum: false)).flatMap {
            isAccepted($0, on: requirements.network) ? $0 : nil
        }
        do {
            if let actual = try await chain.state.chainIDMismatch(prefetching: prefetch) {
                throw CheckFailure.invalid(.invalidNetwork, "the node for \(requirements.network) reports chain id \(actual)")
            }
        } catch let failure as CheckFailure {
            throw failure
        } catch {
            throw .unexpected("could not read the chain id: \(error)")
        }
        guard let token = try? EthereumAddress(requirements.asset, validatingChecksum: false) else {
            throw .invalid(.invalidPaymentRequirements, "asset \(requirements.asset) is not an address")
        }
        guard let payTo = try? EthereumAddress(requirements.payTo, validatingChecksum: false) else {
            throw .invalid(.invalidPaymentRequirements, "payTo \(requirements.payTo) is not an address")
        }
        guard let amount = UInt256(decimal: requirements.amount) else {
            throw .invalid(.exactEVMRequiredAmount, "amount \(requirements.amount) is not a decimal integer")
        }
        // Abuse limits: only known tokens, never a zero amount, never a self-payment.
        guard isAccepted(token, on: requirements.network) else {
            throw .invalid(.assetNotAccepted, "asset \(token.checksummed) is not accepted on \(requirements.network) by this facilitator")
        }
        guard amount > .zero else { throw .invalid(.invalidPaymentAmount, "the amount must be greater than zero") }
        guard authorization.from != authorization.to else {
            throw .invalid(.selfPayment, "the authorization pays its own signer \(authorization.from.checksummed)")
        }
        // 6. Signature over the requirements' domain: binds from, to, value, window, nonce, chain and token.
        let domain = EIP712Domain(name: name, version: version, chainId: UInt256(chain.chainID), verifyingContract: token)
        let digest = authorization.digest(in: domain)
        let (inner, deployment, contractWallet) = try await checkSignature(
            parsed.signature, of: authorization.from, digest: digest, chain: chain)
        // 7. Recipient.
        guard authorization.to == payTo else {
            throw .invalid(.exactEVMRecipientMismatch, "authorization pays \(authorization.to.checksummed), requirements \(payTo.checksummed)")
        }
        let payment = CheckedPayment(
            chain: chain, requirements: requirements, authorization: authorization, signature: parsed.signature,
            innerSignature: inner, deployment: deployment, contractWallet: contractWallet, token: token, amount: amount, name: name, version: version)
        // 8–9. Validity window.
        if timeWindow { try checkTimeWindow(payment) }
        // 10. Exact value.
        guard authorization.value == amount else {
            throw .invalid(.exactEVMAuthorizationValue, "authorization value \(authorization.value) differs from the required \(amount)")
        }
        return payment
    }

    func checkTimeWindow(_ payment: CheckedPayment) throws(CheckFailure) {
        let now = UInt256(clock.now)
        let a = payment.authorization
        guard a.validBefore >= now + UInt256(options.validBeforeBuffer) else {
            throw .invalid(.exactEVMValidBefore, "authorization expires at \(a.validBefore), now is \(now)")
        }
        guard a.validAfter <= now else {
            throw .invalid(.exactEVMValidAfter, "authorization is valid only after \(a.validAfter), now is \(now)")
        }
    }

    /// Verifies the signature; returns the signature the token will check and, for an undeployed
    /// wallet with ERC-6492 deployment data, the wrapper (the simulation then decides).
    private func checkSignature(
        _ signature: [UInt8], of signer: EthereumAddress, digest: Bytes32, chain: EVMFacilitatorChain
    )
        async throws(CheckFailure) -> (signature: [UInt8], deployment: ERC6492Signature?, contractWallet: Bool)
    {
        var inner = signature
        var wrapper: ERC6492Signature?
        if ERC6492Signature.isWrapped(signature) {
            guard let unwrapped = ERC6492Signature(wrapped: signature) else {
                throw .invalid(.exactEVMSignatureFormat, "malformed ERC-6492 signature")
            }
            wrapper = unwrapped
            inner = unwrapped.innerSignature
        }
        var recovered: EthereumAddress?
        if inner.count == 65 {
            do {
                let parsed = try Signature(bytes: inner)
                recovered = try parsed.recoverSigner(digest: digest)
                // v normalised to 27/28: the token's ecrecover rejects 0/1.
                if recovered == signer { return (parsed.bytes, nil, false) }
            } catch {
                // A malformed 65-byte signature (high s, bad v) is never a valid EOA signature.
                if wrapper == nil { throw .invalid(.exactEVMSignature, error.description) }
            }
        }
        // Not an EOA signature by `from`: a contract wallet may still accept it (ERC-1271).
        let code: [UInt8]
        do { code = try await chain.client.code(at: signer, at: .latest) } catch { throw .unexpected("could not read the payer's code: \(error)") }
        if code.isEmpty {
            if let wrapper, wrapper.hasDeploymentData {
                try await checkDeployment(wrapper, of: signer, digest: digest, chain: chain)
                return (inner, wrapper, true)
            }
            if inner.count == 65 && wrapper == nil {
                throw .invalid(.exactEVMSignature, "signature recovers to \(recovered?.checksummed ?? "no address"), not \(signer.checksummed)")
            }
            throw .invalid(.exactEVMUndeployedSmartWallet, "\(signer.checksummed) has no code and the signature carries no ERC-6492 deployment data")
        }
        // The wallet's code runs with at most the contract-wallet gas ceiling: a wallet that
        // burns more is refused here, before anything is sent.
        let data = EIP3009Calls.isValidSignature(digest, inner)
        let request = CallRequest(to: signer, data: data, gas: options.maximumContractWalletGas)
        let answer: [UInt8]
        do {
            answer = try await chain.client.call(request, at: .latest)
        } catch {
            guard case .node = error else { throw .unexpected("could not call isValidSignature: \(error)") }
            // Out of gas or a revert? Only an estimate without the ceiling can tell.
            if let needed = try? await chain.client.estimateGas(CallRequest(to: signer, data: data)),
                needed > options.maximumContractWalletGas
            {
                throw .invalid(
                    .gasLimitExceeded,
                    "the wallet's isValidSignature needs \(needed) gas, above this facilitator's ceiling of \(options.maximumContractWalletGas)")
            }
            throw .invalid(.exactEVMSignature, "the wallet's isValidSignature reverted")
        }
        guard EIP3009Calls.isERC1271MagicWord(answer) else {
            throw .invalid(.exactEVMSignature, "the wallet's isValidSignature did not answer the ERC-1271 magic value word")
        }
        return (inner, nil, true)
    }

    /// An ERC-6492 deployment is acceptable only when deployment is enabled, the factory is on the
    /// allowlist, and one `eth_call` of Multicall3 `tryAggregate` (factory call, then the new
    /// wallet's `isValidSignature`) proves the wrapped signature valid.
    private func checkDeployment(
        _ wrapper: ERC6492Signature, of wallet: EthereumAddress, digest: Bytes32, chain: EVMFacilitatorChain
    )
        async throws(CheckFailure)
    {
        guard options.deployERC6492Wallets else {
            throw .invalid(
                .exactEVMUndeployedSmartWallet,
                "\(wallet.checksummed) is not deployed and this facilitator does not deploy ERC-6492 wallets")
        }
        guard options.erc6492Factories.contains(wrapper.factory) else {
            throw .invalid(
                .erc6492FactoryNotAllowed, "ERC-6492 factory \(wrapper.factory.checksummed) is not on this facilitator's allowlist")
        }
        let data = EIP3009Calls.tryAggregate([
            (wrapper.factory, wrapper.factoryCalldata), (wallet, EIP3009Calls.isValidSignature(digest, wrapper.innerSignature)),
        ])
        let gas = options.maximumDeploymentGas.addingReportingOverflow(options.maximumContractWalletGas)
        let request = CallRequest(
            from: chain.signers.addresses[0], to: EIP3009Calls.multicall3, data: data, gas: gas.overflow ? nil : gas.partialValue)
        let answer: [UInt8]
        do {
            answer = try await chain.client.call(request, at: .latest)
        } catch {
            if case .node = error { throw .invalid(.exactEVMSignature, "the ERC-6492 simulation reverted: \(Self.revertText(error))") }
            throw .unexpected("could not simulate the ERC-6492 signature: \(error)")
        }
        guard let results = EIP3009Calls.decodeTryAggregate(answer), results.count == 2 else {
            throw .invalid(.exactEVMSignature, "the ERC-6492 simulation returned an unexpected answer")
        }
        guard results[0].success else {
            throw .invalid(.exactEVMSignature, "the ERC-6492 factory call reverts: \(RevertReason(data: results[0].data).description)")
        }
        guard results[1].success, EIP3009Calls.isERC1271MagicWord(results[1].data) else {
            throw .invalid(.exactEVMSignature, "the deployed wallet would not accept the wrapped signature (ERC-6492 simulation)")
        }
    }

    // MARK: Costs

    /// Whether `token` may be paid in on `network`.
    func isAccepted(_ token: EthereumAddress, on network: Network) -> Bool {
        if options.acceptedAssets[network]?.contains(token) == true { return true }
        guard options.acceptRegistryAssets else { return false }
        return AssetRegistry.standard.asset(address: token.checksummed, on: network) != nil
    }

    /// The gas a contract-wallet transfer needs, refused above the ceiling; `nil` for EOA transfers
    /// (fixed ``Options/transferGasLimit``). An undeployed wallet is estimated as the deployment
    /// and the transfer in one Multicall3 batch that must succeed as a whole.
    func contractWalletGas(_ payment: CheckedPayment) async throws(CheckFailure) -> UInt64? {
        guard payment.innerSignature.count != 65 || payment.contractWallet else { return nil }
        let chain = payment.chain
        let caller = chain.signers.addresses[0]
        let transfer = EIP3009Calls.transfer(payment.authorization, signature: payment.innerSignature)
        var ceiling = options.maximumContractWalletGas
        let request: CallRequest
        if let deployment = payment.deployment {
            let (sum, overflow) = ceiling.addingReportingOverflow(options.maximumDeploymentGas)
            ceiling = overflow ? .max : sum
            request = CallRequest(
                from: caller, to: EIP3009Calls.multicall3,
                data: EIP3009Calls.tryAggregate([(deployment.factory, deployment.factoryCalldata), (payment.token, transfer)], requireSuccess: true))
        } else {
            request = CallRequest(from: caller, to: payment.token, data: transfer)
        }
        let estimate: UInt64
        do {
            estimate = try await chain.client.estimateGas(request)
        } catch {
            guard case .node = error else { throw .unexpected("gas estimation failed: \(error)") }
            let text = Self.revertText(error)
            throw .invalid(Self.reason(forRevert: text), "the transfer would fail: \(text)")
        }
        guard estimate <= ceiling else {
            throw .invalid(.gasLimitExceeded, "settling needs \(estimate) gas, above this facilitator's ceiling of \(ceiling)")
        }
        return estimate
    }

    /// The gas limit to send for an estimate: the estimate plus
    /// ``Options/estimatedGasHeadroomPercent``, never above `ceiling`; `nil` when the estimate
    /// itself is above the ceiling. Overflow-safe for any node answer.
    func gasLimit(estimate: UInt64, ceiling: UInt64) -> UInt64? {
        guard estimate <= ceiling else { return nil }
        let (product, overflow) = estimate.multipliedReportingOverflow(by: options.estimatedGasHeadroomPercent)
        if overflow { return ceiling }
        let (sum, overflowSum) = estimate.addingReportingOverflow(product / 100)
        return overflowSum ? ceiling : min(sum, ceiling)
    }

    /// Verify's cost checks: the gas ceiling for contract wallets and the fee ceiling.
    func checkCosts(_ payment: CheckedPayment) async throws(CheckFailure) {
        _ = try await contractWalletGas(payment)
        guard options.checkFeesInVerify else { return }
        let oracle = payment.chain.signers.fees
        let fees: TransactionFees
        do {
            fees = try await oracle.fees()
        } catch {
            if case .invalidResponse(let message) = error { throw .invalid(.implausibleNodeAnswer, message) }
            throw .unexpected("could not read the network's fees: \(error)")
        }
        if let cap = oracle.policy.maximumFeePerGas, fees.maxFeePerGas > cap {
            throw .invalid(.feeAboveCap, "the network's fee (\(fees.maxFeePerGas) wei per gas) is above this facilitator's maximum of \(cap)")
        }
    }

    // MARK: Simulation

    /// Runs the transfer with `eth_call` from the facilitator's address; on failure finds the cause.
    func simulate(_ payment: CheckedPayment) async throws(CheckFailure) {
        let chain = payment.chain
        let caller = chain.signers.addresses[0]
        do {
            guard try await chain.state.hasCode(payment.token) else {
                throw CheckFailure.invalid(.exactEVMEIP3009NotSupported, "asset \(payment.token.checksummed) has no contract code")
            }
        } catch let failure as CheckFailure {
            throw failure
        } catch {
            throw .unexpected("could not read the asset's code: \(error)")
        }
        let transfer = EIP3009Calls.transfer(payment.authorization, signature: payment.innerSignature)
        var revert: String
        if let deployment = payment.deployment {
            // Deploy the wallet and transfer in one simulated batch.
            let data = EIP3009Calls.tryAggregate([(deployment.factory, deployment.factoryCalldata), (payment.token, transfer)])
            do {
                let answer = try await chain.client.call(CallRequest(from: caller, to: EIP3009Calls.multicall3, data: data), at: .pending)
                if let results = EIP3009Calls.decodeTryAggregate(answer), results.count == 2 {
                    if results[1].success { return }
                    revert = RevertReason(data: results[1].data).description
                } else {
                    revert = "Multicall3 returned an unexpected answer"
                }
            } catch {
                guard case .node = error else { throw .unexpected("simulation failed to run: \(error)") }
                revert = Self.revertText(error)
            }
        } else {
            var verdict = SimulationCoalescer.Verdict.alone
            if payment.innerSignature.count == 65, !payment.contractWallet, let coalescer = coalescers[chain.network] {
                verdict = await coalescer.simulate(
                    .init(token: payment.token, payer: payment.authorization.from, payee: payment.authorization.to, calldata: transfer))
            }
            switch verdict {
            case .success:
                return
            case .reverted(let data):
                revert = RevertReason(data: data).description
            case .alone:
                do {
                    _ = try await chain.client.call(CallRequest(from: caller, to: payment.token, data: transfer), at: .pending)
                    return
                } catch {
                    guard case .node = error else { throw .unexpected("simulation failed to run: \(error)") }
                    revert = Self.revertText(error)
                }
            }
        }
        throw await diagnose(payment, revert: revert)
    }

    /// One Multicall3 `tryAggregate` of `balanceOf`, `name`, `version`, `authorizationState`,
    /// mapped to the first matching reason.
    ///
    /// The token's `name`/`version` come from the chain facts cache when it holds them (read again
    /// first when they disagree with the payment); only `balanceOf` and `authorizationState` are
    /// then read live. Never cached: the balance and the authorization state.
    func diagnose(_ payment: CheckedPayment, revert: String) async -> CheckFailure {
        let token = payment.token
        let a = payment.authorization
        let cached = await payment.chain.state.domain(of: token, expectedName: payment.name, expectedVersion: payment.version)
        // balanceOf, [name, version,] authorizationState: the domain calls only without a cached domain.
        var calls: [(target: EthereumAddress, data: [UInt8])] = [(token, EIP3009Calls.balanceOf(a.from))]
        if cached == nil { calls += [(token, EIP3009Calls.name), (token, EIP3009Calls.version)] }
        calls.append((token, EIP3009Calls.authorizationState(a.from, a.nonce)))
        let fallback = CheckFailure.invalid(.exactEVMSimulationFailed, "simulation reverted: \(revert)")
        guard
            let answer = try? await payment.chain.client.call(
                CallRequest(to: EIP3009Calls.multicall3, data: EIP3009Calls.tryAggregate(calls)), at: .pending),
            let results = EIP3009Calls.decodeTryAggregate(answer), results.count == calls.count
        else { return fallback }
        guard let state = results.last, state.success, let used = Self.decodeBool(state.data) else {
            return .invalid(.exactEVMEIP3009NotSupported, "the token has no authorizationState (not EIP-3009)")
        }
        if used { return .invalid(.exactEVMNonceAlreadyUsed, "authorization nonce \(a.nonce.hexString) was already used") }
        let onChainName = cached.map(\.name) ?? (results[1].success ? Self.decodeString(results[1].data) : nil)
        let onChainVersion = cached.map(\.version) ?? (results[2].success ? Self.decodeString(results[2].data) : nil)
        if let onChain = onChainName, onChain != payment.name {
            return .invalid(.exactEVMTokenNameMismatch, "token name() is \"\(onChain)\", extra.name is \"\(payment.name)\"")
        }
        if let onChain = onChainVersion, onChain != payment.version {
            return .invalid(.exactEVMTokenVersionMismatch, "token version() is \"\(onChain)\", extra.version is \"\(payment.version)\"")
        }
        if results[0].success, let balance = Self.decodeUInt(results[0].data), balance < payment.amount {
            return .invalid(.exactEVMInsufficientBalance, "balance \(balance) is below \(payment.amount)")
        }
        return fallback
    }

    // MARK: Helpers

    /// The payer for responses: `authorization.from` as sent (checksummed when it parses).
    static func payerHint(_ payload: AnyPaymentPayload) -> String? {
        guard let text = payload.payload["authorization"]?["from"]?.stringValue else { return nil }
        return (try? EthereumAddress(text, validatingChecksum: false))?.checksummed ?? text
    }

    /// The human-readable revert reason of a node error.
    static func revertText(_ error: EthereumClientError) -> String {
        guard case .node(_, let message, let data) = error else { return error.description }
        if let data, !data.isEmpty { return RevertReason(data: data).description }
        return message
    }

    static func decodeBool(_ data: [UInt8]) -> Bool? { (try? ABI.decode([.bool], from: data))?.first?.boolValue }
    static func decodeString(_ data: [UInt8]) -> String? { (try? ABI.decode([.string], from: data))?.first?.stringValue }
    static func decodeUInt(_ data: [UInt8]) -> UInt256? { (try? ABI.decode([.uint(256)], from: data))?.first?.uintValue }
}
