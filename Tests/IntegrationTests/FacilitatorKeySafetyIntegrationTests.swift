import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import X402
import X402EVM
import X402EVMRPC

@testable import X402Facilitator

/// The facilitator's key and gas cannot be abused (security review F3, F4, F9, F16), on the
/// devnet: every refusal is checked by the facilitator key's nonce, which must not move.
@Suite("facilitator key and gas safety on the devnet", .devnet)
struct FacilitatorKeySafetyIntegrationTests {
    typealias Wallets = ExactEVMSmartWalletTests

    /// Hostile ERC-1271 wallets the devnet places at genesis (`Tools/devnet/devnet.py`).
    static let gasBurner = try! EthereumAddress("0x1271000000000000000000000000000000000001")
    static let shortMagic = try! EthereumAddress("0x1271000000000000000000000000000000000002")
    static let echo = try! EthereumAddress("0x1271000000000000000000000000000000000003")

    /// Signs as `wallet` with a random key: the hostile wallets accept anything (or pretend to).
    static func payment(
        from wallet: EthereumAddress, _ requirements: PaymentRequirements, signatureBytes: Int = 65
    ) async throws
        -> AnyPaymentPayload
    {
        var payload = try await ExactEVMClient(signer: Wallets.WalletSigner(address: wallet, owner: .random())).signedPayload(for: requirements)
        if signatureBytes > payload.signature.count {
            payload.signature += [UInt8](repeating: 0xEE, count: signatureBytes - payload.signature.count)
        }
        return .v2(PaymentPayload(accepted: requirements, payload: payload.json))
    }

    static func nonce(_ account: DevnetAccount, _ devnet: Devnet) async throws -> UInt64 {
        try await devnet.client.transactionCount(of: account.address, at: .pending)
    }

    /// An undeployed CREATE2 wallet of the test factory, its factory call and its owner.
    struct Counterfactual {
        let factory: EthereumAddress
        let wallet: EthereumAddress
        let owner: PrivateKey
        let factoryCalldata: [UInt8]

        static func make(_ s: Wallets.Setup) async throws -> Counterfactual {
            let factory = try await s.create(try Hex.decode(Wallets.factoryInitCode))
            let owner = PrivateKey.random()
            let initCode = try s.walletInitCode(owner: owner.address)
            let salt = Bytes32.random()
            let digest = Keccak256.hash([0xFF] + factory.bytes + salt.bytes + Keccak256.hash(initCode).bytes)
            let wallet = try #require(EthereumAddress(digest.bytes[12...]))
            let calldata = try ABI.encodeCall("deploy(bytes,bytes32)", [.bytes(initCode), .bytes32(salt)])
            return Counterfactual(factory: factory, wallet: wallet, owner: owner, factoryCalldata: calldata)
        }

        /// A payment signed by `signer` (the owner, or a stranger), wrapped for ERC-6492 with
        /// `factory` (default: the real one) and `calldata` (default: the real deployment).
        func payment(
            _ requirements: PaymentRequirements, signer: PrivateKey? = nil, factory: EthereumAddress? = nil, calldata: [UInt8]? = nil
        )
            async throws -> AnyPaymentPayload
        {
            let client = ExactEVMClient(signer: Wallets.WalletSigner(address: wallet, owner: signer ?? owner))
            var payload = try await client.signedPayload(for: requirements)
            payload.signature =
                ERC6492Signature(
                    factory: factory ?? self.factory, factoryCalldata: calldata ?? factoryCalldata, innerSignature: payload.signature
                ).wrappedBytes
            return .v2(PaymentPayload(accepted: requirements, payload: payload.json))
        }
    }

    @Test("F3: ERC-6492 through a factory that is not allowlisted is refused and nothing is sent from the facilitator key")
    func factoryNotAllowlisted() async throws {
        let s = try await Wallets.Setup.make()
        let wallet = try await Counterfactual.make(s)
        _ = try await s.devnet.mintUSDC(to: wallet.wallet, amount: 10_000)
        let requirements = s.requirements(payTo: s.devnet.randomAddress())
        // Deployment on, allowlist empty (the default), and a hostile variant: the "factory" is the
        // token itself and the "calldata" a transfer of the facilitator's own USDC (the F3 attack).
        let (facilitator, gasPayer) = try await s.facilitatorWithPayer(deploy: true)
        _ = try await s.devnet.mintUSDC(to: gasPayer.address, amount: 5_000)
        let attacker = s.devnet.randomAddress()
        let steal = try ABI.encodeCall("transfer(address,uint256)", [.address(attacker), .uint(5_000)])
        let before = try await Self.nonce(gasPayer, s.devnet)
        for payment in [
            try await wallet.payment(requirements),
            try await wallet.payment(requirements, signer: .random(), factory: s.devnet.token, calldata: steal),
        ] {
            let verified = await facilitator.verify(payment, requirements: .v2(requirements))
            #expect(verified.invalidReason == .erc6492FactoryNotAllowed, "\(verified)")
            let settled = await facilitator.settle(payment, requirements: .v2(requirements))
            #expect(!settled.success && settled.errorReason == .erc6492FactoryNotAllowed, "\(settled)")
        }
        #expect(try await Self.nonce(gasPayer, s.devnet) == before, "the facilitator key sent a transaction")
        #expect(try await s.devnet.usdcBalance(of: attacker) == 0)
        #expect(try await s.devnet.usdcBalance(of: gasPayer.address) == 5_000)
        #expect(try await s.devnet.client.code(at: wallet.wallet, at: .latest).isEmpty)
    }

    @Test("F3: an allowlisted factory with an invalid inner signature is refused by the simulation, nothing sent")
    func invalidInnerSignature() async throws {
        let s = try await Wallets.Setup.make()
        let wallet = try await Counterfactual.make(s)
        _ = try await s.devnet.mintUSDC(to: wallet.wallet, amount: 10_000)
        let requirements = s.requirements(payTo: s.devnet.randomAddress())
        let (facilitator, gasPayer) = try await s.facilitatorWithPayer(deploy: true, factories: [wallet.factory])
        let before = try await Self.nonce(gasPayer, s.devnet)
        // Signed by a stranger, not the wallet's owner.
        let forged = try await wallet.payment(requirements, signer: .random())
        let verified = await facilitator.verify(forged, requirements: .v2(requirements))
        #expect(verified.invalidReason == .exactEVMSignature, "\(verified)")
        let settled = await facilitator.settle(forged, requirements: .v2(requirements))
        #expect(!settled.success && settled.errorReason == .exactEVMSignature, "\(settled)")
        #expect(try await Self.nonce(gasPayer, s.devnet) == before, "the facilitator key sent a transaction")
        #expect(try await s.devnet.client.code(at: wallet.wallet, at: .latest).isEmpty, "the wallet was deployed")

        // The owner's signature through the same facilitator: deployed and charged.
        let good = try await wallet.payment(requirements)
        #expect(await facilitator.verify(good, requirements: .v2(requirements)).isValid)
        let ok = await facilitator.settle(good, requirements: .v2(requirements))
        #expect(ok.success, "\(ok)")
        #expect(try await s.devnet.usdcBalance(of: wallet.wallet) == 6_000)
    }

    @Test("F4: a gas-burning ERC-1271 wallet is refused at verify and settle; no gas spent")
    func gasBurner() async throws {
        let s = try await Wallets.Setup.make()
        _ = try await s.devnet.mintUSDC(to: Self.gasBurner, amount: 10_000)
        let requirements = s.requirements(payTo: s.devnet.randomAddress())
        let (facilitator, gasPayer) = try await s.facilitatorWithPayer()
        let ethBefore = try await s.devnet.client.balance(of: gasPayer.address, at: .latest)
        let before = try await Self.nonce(gasPayer, s.devnet)
        for bytes in [65, 97] {
            let payment = try await Self.payment(from: Self.gasBurner, requirements, signatureBytes: bytes)
            let verified = await facilitator.verify(payment, requirements: .v2(requirements))
            #expect(verified.invalidReason == .gasLimitExceeded, "\(verified)")
            let settled = await facilitator.settle(payment, requirements: .v2(requirements))
            #expect(!settled.success && settled.errorReason == .gasLimitExceeded, "\(settled)")
        }
        #expect(try await Self.nonce(gasPayer, s.devnet) == before)
        #expect(try await s.devnet.client.balance(of: gasPayer.address, at: .latest) == ethBefore)
        #expect(try await s.devnet.usdcBalance(of: Self.gasBurner) >= 10_000)
    }

    @Test("F16: wallets answering only the 4-byte magic value or echoing calldata are refused; nothing sent")
    func lenientERC1271() async throws {
        let s = try await Wallets.Setup.make()
        let requirements = s.requirements(payTo: s.devnet.randomAddress())
        let (facilitator, gasPayer) = try await s.facilitatorWithPayer()
        let before = try await Self.nonce(gasPayer, s.devnet)
        for wallet in [Self.shortMagic, Self.echo] {
            _ = try await s.devnet.mintUSDC(to: wallet, amount: 10_000)
            let payment = try await Self.payment(from: wallet, requirements)
            let verified = await facilitator.verify(payment, requirements: .v2(requirements))
            #expect(verified.invalidReason == .exactEVMSignature, "\(wallet): \(verified)")
            let settled = await facilitator.settle(payment, requirements: .v2(requirements))
            #expect(!settled.success && settled.errorReason == .exactEVMSignature, "\(wallet): \(settled)")
        }
        #expect(try await Self.nonce(gasPayer, s.devnet) == before)
    }

    @Test("F9: zero amount, self-payment and an unknown asset are refused; nothing sent")
    func abuseLimits() async throws {
        let s = try await Wallets.Setup.make()
        let payer = try await s.devnet.freshAccount(eth: .zero, usdc: 100_000)
        let (facilitator, gasPayer) = try await s.facilitatorWithPayer()
        let before = try await Self.nonce(gasPayer, s.devnet)
        let client = ExactEVMClient(signer: payer.key)
        func attempt(_ requirements: PaymentRequirements, _ reason: ErrorReason) async throws {
            let payload = try await client.signedPayload(for: requirements)
            let payment = AnyPaymentPayload.v2(PaymentPayload(accepted: requirements, payload: payload.json))
            let verified = await facilitator.verify(payment, requirements: .v2(requirements))
            #expect(verified.invalidReason == reason, "\(verified)")
            let settled = await facilitator.settle(payment, requirements: .v2(requirements))
            #expect(!settled.success && settled.errorReason == reason, "\(settled)")
        }
        try await attempt(s.requirements(payTo: s.devnet.randomAddress(), amount: "0"), .invalidPaymentAmount)
        try await attempt(s.requirements(payTo: payer.address), .selfPayment)
        // A contract of the attacker's choosing as the "token" (here: the test factory).
        let foreign = try await s.create(try Hex.decode(Wallets.factoryInitCode))
        var unknown = s.requirements(payTo: s.devnet.randomAddress())
        unknown.asset = foreign.checksummed
        try await attempt(unknown, .assetNotAccepted)
        #expect(try await Self.nonce(gasPayer, s.devnet) == before)
        #expect(try await s.devnet.usdcBalance(of: payer.address) == 100_000)
    }

    @Test("every kind /supported advertises (v2 and v1 names) gets a structured verify and settle answer over HTTP")
    func everyAdvertisedKind() async throws {
        let devnet = try await Devnet.shared()
        let payer = try await devnet.freshAccount(eth: .zero, usdc: 100_000)
        let running = try await FacilitatorServiceIntegrationTests.start(
            devnet: devnet, facilitator: try await devnet.freshAccount(), database: FacilitatorServiceIntegrationTests.temporaryDatabase())
        defer { Task { await running.stop() } }
        let (status, supportedJSON) = try await FacilitatorServiceIntegrationTests.get(running.url + "/supported")
        #expect(status == 200)
        let supported = try SupportedResponse(json: supportedJSON)
        #expect(supported.kinds.contains { $0.x402Version == .v1 })
        let client = ExactEVMClient(signer: payer.key)
        for kind in supported.kinds {
            let payee = devnet.randomAddress()
            let request: FacilitatorRequest
            if kind.x402Version == .v1 {
                let requirements = PaymentRequirementsV1(
                    scheme: kind.scheme, network: kind.network, maxAmountRequired: "1000", resource: "https://api.example.com/v1",
                    description: "", mimeType: "", payTo: payee.checksummed, maxTimeoutSeconds: 120, asset: devnet.token.checksummed,
                    extra: ["name": "USDC", "version": "2"])
                let signed = try await client.signedPayload(for: try #require(requirements.normalized))
                request = FacilitatorRequest(
                    paymentPayload: .v1(PaymentPayloadV1(scheme: kind.scheme, network: kind.network, payload: signed.json)),
                    paymentRequirements: .v1(requirements))
            } else {
                let requirements = PaymentRequirements(
                    scheme: kind.scheme, network: try #require(Network(kind.network)), amount: "1000", asset: devnet.token.checksummed,
                    payTo: payee.checksummed, maxTimeoutSeconds: 120, extra: ["name": "USDC", "version": "2"])
                let signed = try await client.signedPayload(for: requirements)
                request = FacilitatorRequest(
                    paymentPayload: .v2(PaymentPayload(accepted: requirements, payload: signed.json)), paymentRequirements: .v2(requirements))
            }
            let (vs, verdict) = try await FacilitatorServiceIntegrationTests.post(running.url + "/verify", request.jsonBytes())
            #expect(vs == 200 && verdict["isValid"] == true, "\(kind.network) v\(kind.x402Version.rawValue): \(verdict)")
            let (ss, settled) = try await FacilitatorServiceIntegrationTests.post(running.url + "/settle", request.jsonBytes())
            #expect(ss == 200 && settled["success"] == true, "\(kind.network) v\(kind.x402Version.rawValue): \(settled)")
            #expect(try await devnet.usdcBalance(of: payee) == 1000)
        }
        // The gas the facilitator paid is metered per network.
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: running.url + "/metrics"), timeout: .seconds(30))
        let metrics = String(buffer: try await response.body.collect(upTo: 1 << 20))
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("x402_facilitator_gas_used_total{network=\"\(devnet.network)\"}") }
        let gas = line.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) } ?? 0
        #expect(gas >= 40_000 * supported.kinds.count, "\(metrics)")
    }
}
