import Foundation
import Testing
import X402
import X402EVM
import X402EVMRPC

/// Contract-wallet payers on the devnet: ERC-1271 (deployed) and ERC-6492 (deployed by the facilitator).
@Suite("exact EVM smart wallets on the devnet", .devnet)
struct ExactEVMSmartWalletTests {
    /// Init code of a test-only ERC-1271 wallet (Vyper 0.4.3, compiled from the source below);
    /// constructor argument: the owner. A signature is valid iff its first 65 bytes are the owner's
    /// ECDSA signature of the digest; further bytes are ignored.
    ///
    ///     owner: public(address)
    ///     @deploy
    ///     def __init__(o: address):
    ///         self.owner = o
    ///     @external
    ///     @view
    ///     def isValidSignature(digest: bytes32, signature: Bytes[512]) -> bytes4:
    ///         if len(signature) < 65:
    ///             return 0xffffffff
    ///         v: uint256 = convert(slice(signature, 64, 1), uint256)
    ///         signer: address = ecrecover(digest, v, extract32(signature, 0), extract32(signature, 32))
    ///         if signer == self.owner and signer != empty(address):
    ///             return 0x1626ba7e
    ///         return 0xffffffff
    static let walletInitCode =
        "0x3461002f5760206102455f395f518060a01c61002f576040526040515f556101dc610033610000396101dc610000f35b5f80fd5f3560e01c60026001821660011b6101d801601e395f51565b631626ba7e81186101d0576044361034176101d457602435600401803561020081116101d45750602081350180826040375050604060405111610084577fffffffff000000000000000000000000000000000000000000000000000000006102605260206102606101b3565b604060405111156101d45760a0516102a0526001610280526102806020810151815160200360031b1c9050610260525f610320526004356102a052610260516102c0527fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff60206040510313600116156101d4575f806060015190506102e052601f60206040510313600116156101d45760208060600151905061030052602061032060806102a060015afa156101d45761032051610280525f54610280511861015257610280511515610154565b5f5b15610188577f1626ba7e000000000000000000000000000000000000000000000000000000006102a05260206102a06101b3565b7fffffffff000000000000000000000000000000000000000000000000000000006102a05260206102a05bf35b638da5cb5b81186101d057346101d4575f5460405260206040f35b5f5ffd5b5f80fd001801b5855820f30f81663666e6a88fbdec3d4bcc5e62436a87c3fa85edfc9e8940cf3cb8f7881901dc810400a1657679706572830004030036"

    /// Init code of a test-only CREATE2 factory (Vyper 0.4.3):
    ///
    ///     @external
    ///     def deploy(initcode: Bytes[4096], salt: bytes32) -> address:
    ///         return raw_create(initcode, salt=salt)
    static let factoryInitCode =
        "0x61007761000f6000396100776000f35f3560e01c634af63f02811861006f57604436103417610073576004356004018035611000811161007357506020813501808260403750506024356040518060606110605e818161106001505f82016110605ff580610060573d5f5f3e3d5ffd5b90509050612060526020612060f35b5f5ffd5b5f80fd855820be0be69cb2044afe7bac4174d44d2b94c4a57e4cc0b4dd8376f658199d26114618778000a1657679706572830004030034"

    /// Signs as the wallet: the address is the wallet's, the signature its owner's.
    struct WalletSigner: EVMSigner {
        let address: EthereumAddress
        let owner: PrivateKey
        func sign(digest: Bytes32) async throws -> Signature { owner.sign(digest: digest) }
    }

    struct Setup {
        let devnet: Devnet
        let deployer: DevnetAccount
        let network: Network

        static func make() async throws -> Setup {
            let devnet = try await Devnet.shared()
            return Setup(devnet: devnet, deployer: try await devnet.freshAccount(), network: try #require(Network(devnet.network)))
        }

        /// Deploys init code with a contract-creation transaction and returns the contract address.
        func create(_ initCode: [UInt8]) async throws -> EthereumAddress {
            let client = devnet.client
            let transaction = EIP1559Transaction(
                chainId: devnet.chainID, nonce: try await client.transactionCount(of: deployer.address, at: .pending),
                maxPriorityFeePerGas: try await client.maxPriorityFeePerGas(), maxFeePerGas: try await client.gasPrice() * 2,
                gasLimit: 2_000_000, to: nil, value: .zero, data: initCode)
            let signed = transaction.signed(with: deployer.key)
            _ = try await client.sendRawTransaction(signed.rawBytes)
            let receipt = try await devnet.waitForReceipt(signed.hash)
            #expect(receipt.succeeded)
            return try #require(receipt.contractAddress)
        }

        func walletInitCode(owner: EthereumAddress) throws -> [UInt8] {
            try Hex.decode(ExactEVMSmartWalletTests.walletInitCode) + (try ABI.encode([.address(owner)], as: ["address"]))
        }

        func facilitator(deploy: Bool = false, factories: Set<EthereumAddress> = []) async throws -> ExactEVMFacilitator {
            try await facilitatorWithPayer(deploy: deploy, factories: factories).facilitator
        }

        /// A facilitator with its own fresh gas key (returned, to check its nonce).
        func facilitatorWithPayer(
            deploy: Bool = false, factories: Set<EthereumAddress> = []
        )
            async throws -> (facilitator: ExactEVMFacilitator, gasPayer: DevnetAccount)
        {
            let gasPayer = try await devnet.freshAccount()
            var options = ExactEVMFacilitator.Options()
            options.deployERC6492Wallets = deploy
            options.erc6492Factories = factories
            let chain = EVMFacilitatorChain(network: network, client: devnet.client, signers: [gasPayer.key], receiptPollInterval: .milliseconds(50))
            return (ExactEVMFacilitator(chains: [chain], options: options), gasPayer)
        }

        func requirements(payTo: EthereumAddress, amount: String = "4000") -> PaymentRequirements {
            PaymentRequirements(
                scheme: "exact", network: network, amount: amount, asset: devnet.token.checksummed, payTo: payTo.checksummed,
                maxTimeoutSeconds: 120, extra: ["name": "USDC", "version": "2"])
        }
    }

    @Test("ERC-1271 wallet: a 65-byte owner signature and a longer one both verify and settle")
    func erc1271() async throws {
        let s = try await Setup.make()
        let owner = PrivateKey.random()
        let wallet = try await s.create(try s.walletInitCode(owner: owner.address))
        try await s.devnet.mintUSDC(to: wallet, amount: 10_000)
        let payee = s.devnet.randomAddress()
        let requirements = s.requirements(payTo: payee)
        let facilitator = try await s.facilitator()
        let client = ExactEVMClient(signer: WalletSigner(address: wallet, owner: owner))

        // 65 bytes: the (v, r, s) overload; the token asks the wallet (ERC-1271).
        let short = try await client.signedPayload(for: requirements)
        let shortPayment = AnyPaymentPayload.v2(PaymentPayload(accepted: requirements, payload: short.json))
        let verified = await facilitator.verify(shortPayment, requirements: .v2(requirements))
        #expect(verified.isValid, "\(verified)")
        #expect(verified.payer == wallet.checksummed)
        let settled = await facilitator.settle(shortPayment, requirements: .v2(requirements))
        #expect(settled.success, "\(settled)")

        // 97 bytes: the bytes overload, with estimated gas.
        var long = try await client.signedPayload(for: requirements)
        long.signature += [UInt8](repeating: 0xEE, count: 32)
        let longPayment = AnyPaymentPayload.v2(PaymentPayload(accepted: requirements, payload: long.json))
        #expect(await facilitator.verify(longPayment, requirements: .v2(requirements)).isValid)
        let settledLong = await facilitator.settle(longPayment, requirements: .v2(requirements))
        #expect(settledLong.success, "\(settledLong)")
        #expect(try await s.devnet.usdcBalance(of: payee) == 8000)

        // Signed by someone else: the wallet says no.
        let stranger = ExactEVMClient(signer: WalletSigner(address: wallet, owner: .random()))
        let forged = try await stranger.signedPayload(for: requirements)
        let rejected = await facilitator.verify(.v2(PaymentPayload(accepted: requirements, payload: forged.json)), requirements: .v2(requirements))
        #expect(rejected.invalidReason == .exactEVMSignature, "\(rejected)")
    }

    @Test("ERC-6492: an undeployed wallet is refused by default, and deployed then charged when enabled with an allowlisted factory")
    func erc6492() async throws {
        let s = try await Setup.make()
        let factory = try await s.create(try Hex.decode(Self.factoryInitCode))
        let owner = PrivateKey.random()
        let initCode = try s.walletInitCode(owner: owner.address)
        let salt = Bytes32.random()
        // CREATE2 address: keccak256(0xff ‖ factory ‖ salt ‖ keccak256(initCode))[12...].
        let digest = Keccak256.hash([0xFF] + factory.bytes + salt.bytes + Keccak256.hash(initCode).bytes)
        let wallet = try #require(EthereumAddress(digest.bytes[12...]))
        #expect(try await s.devnet.client.code(at: wallet, at: .latest).isEmpty)
        try await s.devnet.mintUSDC(to: wallet, amount: 10_000)

        let payee = s.devnet.randomAddress()
        let requirements = s.requirements(payTo: payee)
        let client = ExactEVMClient(signer: WalletSigner(address: wallet, owner: owner))
        var payload = try await client.signedPayload(for: requirements)
        let factoryCalldata = try ABI.encodeCall("deploy(bytes,bytes32)", [.bytes(initCode), .bytes32(salt)])
        payload.signature = ERC6492Signature(factory: factory, factoryCalldata: factoryCalldata, innerSignature: payload.signature).wrappedBytes
        let payment = AnyPaymentPayload.v2(PaymentPayload(accepted: requirements, payload: payload.json))

        let refusing = try await s.facilitator()
        #expect(await refusing.verify(payment, requirements: .v2(requirements)).invalidReason == .exactEVMUndeployedSmartWallet)

        let deploying = try await s.facilitator(deploy: true, factories: [factory])
        let verified = await deploying.verify(payment, requirements: .v2(requirements))
        #expect(verified.isValid, "\(verified)")
        let settled = await deploying.settle(payment, requirements: .v2(requirements))
        #expect(settled.success, "\(settled)")
        #expect(try await s.devnet.client.code(at: wallet, at: .latest).isEmpty == false)
        #expect(try await s.devnet.usdcBalance(of: payee) == 4000)
        #expect(try await s.devnet.usdcBalance(of: wallet) == 6000)
    }
}
