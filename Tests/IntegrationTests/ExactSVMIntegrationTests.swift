import Foundation
import Testing
import X402
import X402Postgres
import X402SQLite
import X402Solana
import X402SolanaRPC
import X402TestSupport

/// Exact on Solana against a real runtime (Tools/svmnet: LiteSVM with the SPL Token, Token-2022,
/// ATA and Memo programs): the Swift client builds the payment, the Swift facilitator verifies it
/// (static checks, then a `sigVerify` simulation), co-signs, sends and confirms it. Every negative
/// class is refused with its reason and moves nothing; a settled transaction lands once.
@Suite(.svmnet, .serialized)
struct ExactSVMIntegrationTests {
    static let price: UInt64 = 10_000

    struct Harness {
        let net: SVMNet
        let payer: SolanaKeypair
        let wallet: SolanaPublicKey
        let facilitator: ExactSVMFacilitator

        init(_ net: SVMNet, records: any SchemeSettlementRowStore = InMemorySchemeSettlementRows(), payerUSDC: UInt64 = 1_000_000) async throws {
            self.net = net
            payer = try await net.freshPayer(usdc: payerUSDC)
            wallet = try await net.freshWallet()
            facilitator = Self.facilitator(net, records: records)
        }

        static func facilitator(_ net: SVMNet, records: any SchemeSettlementRowStore = InMemorySchemeSettlementRows()) -> ExactSVMFacilitator {
            var options = ExactSVMFacilitator.Options()
            options.confirmationInterval = .milliseconds(100)
            options.confirmationAttempts = 100
            return ExactSVMFacilitator(nodes: [net.network: net.rpc], feePayers: net.feePayers, options: options, records: records)
        }

        func requirements(
            mint: SolanaPublicKey? = nil, amount: UInt64 = ExactSVMIntegrationTests.price, feePayer: SolanaPublicKey? = nil
        )
            -> PaymentRequirements
        {
            PaymentRequirements(
                scheme: "exact", network: net.network, amount: String(amount), asset: (mint ?? net.usdc).base58, payTo: wallet.base58,
                maxTimeoutSeconds: 60, extra: ["feePayer": .string((feePayer ?? net.feePayers[0].publicKey).base58)])
        }

        func pay(_ requirements: PaymentRequirements) async throws -> AnyPaymentPayload {
            let client = ExactSVMClient(signer: payer, rpc: net.rpc)
            let payload = try await client.createPayload(for: requirements, context: PaymentContext(version: .v2))
            return .v2(PaymentPayload(accepted: requirements, payload: payload.payload))
        }

        /// A payment whose transaction is built from `instructions` (signed by the payer, fee payer `feePayer`).
        func payment(
            _ requirements: PaymentRequirements, instructions: [SolanaInstruction], feePayer: SolanaPublicKey? = nil,
            blockhash: String? = nil, tamper: ((inout SolanaTransaction) -> Void)? = nil
        ) async throws -> AnyPaymentPayload {
            let hashText: String
            if let blockhash { hashText = blockhash } else { hashText = try await net.rpc.latestBlockhash(commitment: .confirmed).blockhash }
            let hash = try SolanaHash(base58: hashText)
            var transaction = SolanaTransaction(
                message: .compile(payer: feePayer ?? net.feePayers[0].publicKey, instructions: instructions, recentBlockhash: hash))
            try transaction.sign(with: payer)
            tamper?(&transaction)
            return .v2(PaymentPayload(accepted: requirements, payload: ["transaction": .string(transaction.base64)]))
        }

        /// The standard instructions, with parts replaced.
        func instructions(
            mint: SolanaPublicKey? = nil, destinationOwner: SolanaPublicKey? = nil, amount: UInt64 = ExactSVMIntegrationTests.price,
            price: UInt64 = 1, authority: SolanaPublicKey? = nil
        ) -> [SolanaInstruction] {
            let mint = mint ?? net.usdc
            let program = net.tokenProgram(of: mint)
            let owner = authority ?? payer.publicKey
            let source = ProgramDerivedAddress.associatedTokenAddress(owner: owner, mint: mint, tokenProgram: program).address
            let destination = ProgramDerivedAddress.associatedTokenAddress(owner: destinationOwner ?? wallet, mint: mint, tokenProgram: program)
                .address
            return [
                ComputeBudgetInstruction.setComputeUnitLimit(20_000),
                ComputeBudgetInstruction.setComputeUnitPrice(price),
                TokenInstruction.transferChecked(
                    source: source, mint: mint, destination: destination, authority: owner, amount: amount, decimals: 6, tokenProgram: program),
                MemoInstruction.memo(Array(UUID().uuidString.utf8)),
            ]
        }

        func balances(_ mint: SolanaPublicKey? = nil) async throws -> (payer: UInt64, wallet: UInt64) {
            let mint = mint ?? net.usdc
            return (try await net.tokenBalance(of: payer.publicKey, mint: mint), try await net.tokenBalance(of: wallet, mint: mint))
        }
    }

    // MARK: Paid

    @Test("a Swift-built payment settles on SPL Token and on Token-2022, moving exactly the price", arguments: ["spl", "token2022"])
    func settles(program: String) async throws {
        let net = try await SVMNet.shared()
        let h = try await Harness(net)
        let mint = program == "spl" ? net.usdc : net.usdcToken2022
        let requirements = h.requirements(mint: mint)
        let payment = try await h.pay(requirements)
        let before = try await h.balances(mint)

        let verdict = await h.facilitator.verify(payment, requirements: .v2(requirements))
        #expect(verdict.isValid, "\(verdict)")
        #expect(verdict.payer == h.payer.publicKey.base58)

        let settled = await h.facilitator.settle(payment, requirements: .v2(requirements))
        #expect(settled.success, "\(settled)")
        #expect(settled.payer == h.payer.publicKey.base58)
        #expect(settled.network == net.network.identifier)
        let signature = settled.transaction
        let statuses = try await net.rpc.signatureStatuses([signature])
        let status = try #require(statuses.first ?? nil)
        #expect(status.error == nil)
        #expect(status.confirmationStatus == .confirmed || status.confirmationStatus == .finalized)

        let after = try await h.balances(mint)
        #expect(before.payer - after.payer == Self.price)
        #expect(after.wallet - before.wallet == Self.price)
    }

    // MARK: Refused, nothing moves

    enum Negative: String, CaseIterable, Sendable {
        case wrongMint, wrongRecipient, amountPlusOne, amountMinusOne, missingInstruction, extraInstruction, computePriceOverCap
        case feePayerInInstruction, feePayerTransfers, unknownFeePayer, tamperedSignature, expiredBlockhash, insufficientBalance
    }

    @Test("every negative class is refused by verify and settle with its reason, and moves nothing", arguments: Negative.allCases)
    func refused(_ negative: Negative) async throws {
        let net = try await SVMNet.shared()
        let h = try await Harness(net, payerUSDC: negative == .insufficientBalance ? Self.price - 1 : 1_000_000)
        var requirements = h.requirements()
        let payment: AnyPaymentPayload
        let expected: String?  // nil: any refusal (the reason is the runtime's)
        switch negative {
        case .wrongMint:
            payment = try await h.payment(requirements, instructions: h.instructions(mint: net.usdcToken2022))
            expected = "invalid_exact_svm_payload_mint_mismatch"
        case .wrongRecipient:
            let other = try await net.freshWallet()
            payment = try await h.payment(requirements, instructions: h.instructions(destinationOwner: other))
            expected = "invalid_exact_svm_payload_recipient_mismatch"
        case .amountPlusOne:
            payment = try await h.payment(requirements, instructions: h.instructions(amount: Self.price + 1))
            expected = "invalid_exact_svm_payload_amount_mismatch"
        case .amountMinusOne:
            payment = try await h.payment(requirements, instructions: h.instructions(amount: Self.price - 1))
            expected = "invalid_exact_svm_payload_amount_mismatch"
        case .missingInstruction:
            var instructions = h.instructions()
            instructions.remove(at: 1)
            payment = try await h.payment(requirements, instructions: instructions)
            expected = nil
        case .extraInstruction:
            var instructions = h.instructions()
            // A System transfer of the payer's SOL beside the token transfer.
            var data: [UInt8] = [2, 0, 0, 0]
            withUnsafeBytes(of: UInt64(1_000).littleEndian) { data += $0 }
            instructions.insert(
                SolanaInstruction(
                    programID: .systemProgram,
                    accounts: [.init(h.payer.publicKey, isSigner: true, isWritable: true), .init(h.wallet, isSigner: false, isWritable: true)],
                    data: data), at: 3)
            payment = try await h.payment(requirements, instructions: instructions)
            expected = "invalid_exact_svm_payload_unknown_fourth_instruction"
        case .computePriceOverCap:
            payment = try await h.payment(requirements, instructions: h.instructions(price: 5_000_001))
            expected = "invalid_exact_svm_payload_transaction_instructions_compute_price_instruction_too_high"
        case .feePayerInInstruction:
            var instructions = h.instructions()
            instructions[3] = SolanaInstruction(
                programID: .memoProgram, accounts: [.init(net.feePayers[0].publicKey, isSigner: true, isWritable: false)], data: Array("x".utf8))
            payment = try await h.payment(requirements, instructions: instructions)
            expected = nil
        case .feePayerTransfers:
            // The fee payer as the transfer authority: its own tokens would move.
            let instructions = h.instructions(authority: net.feePayers[0].publicKey)
            let hash = try SolanaHash(base58: try await net.rpc.latestBlockhash(commitment: .confirmed).blockhash)
            let transaction = SolanaTransaction(
                message: .compile(payer: net.feePayers[0].publicKey, instructions: instructions, recentBlockhash: hash))
            payment = .v2(PaymentPayload(accepted: requirements, payload: ["transaction": .string(transaction.base64)]))
            expected = "invalid_exact_svm_payload_transaction_fee_payer_transferring_funds"
        case .unknownFeePayer:
            let stranger = try SolanaKeypair(seed: (0..<32).map { _ in UInt8.random(in: .min ... .max) }).publicKey
            requirements = h.requirements(feePayer: stranger)
            payment = try await h.payment(requirements, instructions: h.instructions(), feePayer: stranger)
            expected = "fee_payer_not_managed_by_facilitator"
        case .tamperedSignature:
            payment = try await h.payment(requirements, instructions: h.instructions()) { transaction in
                guard let slot = transaction.signerIndex(of: h.payer.publicKey) else { return }
                var bytes = transaction.signatures[slot].bytes
                bytes[10] ^= 0x01
                transaction.signatures[slot] = SolanaSignature(bytes: bytes)!
            }
            expected = "invalid_exact_svm_payload_signature_invalid"  // checked before the node is asked
        case .expiredBlockhash:
            // A blockhash the chain does not know (expired, or never valid). Expiring the latest one
            // with `svmnet_expireBlockhash` would also break the transactions of tests running in
            // parallel that fetched it in the same slot (Tools/svmnet/README.md).
            let unknown = try #require(SolanaHash(bytes: (0..<32).map { _ in UInt8.random(in: .min ... .max) }))
            payment = try await h.payment(requirements, instructions: h.instructions(), blockhash: unknown.base58)
            expected = "transaction_simulation_failed"
        case .insufficientBalance:
            payment = try await h.pay(requirements)
            expected = "transaction_simulation_failed"
        }
        let before = try await h.balances()
        let feePayerLamports = try await net.rpc.balance(of: net.feePayers[0].publicKey.base58, commitment: .confirmed)

        let verdict = await h.facilitator.verify(payment, requirements: .v2(requirements))
        #expect(!verdict.isValid, "\(negative): \(verdict)")
        if let expected { #expect(verdict.invalidReason?.rawValue == expected, "\(negative): \(verdict)") }

        let settled = await h.facilitator.settle(payment, requirements: .v2(requirements))
        #expect(!settled.success, "\(negative): \(settled)")
        if let expected { #expect(settled.errorReason?.rawValue == expected, "\(negative): \(settled)") }

        let after = try await h.balances()
        #expect(after.payer == before.payer && after.wallet == before.wallet, "\(negative) moved tokens")
        _ = feePayerLamports
    }

    // MARK: Lands once

    @Test("the same payment settled twice, also concurrently, moves the price once")
    func replay() async throws {
        let net = try await SVMNet.shared()
        let h = try await Harness(net)
        let requirements = h.requirements()
        let payment = try await h.pay(requirements)
        let before = try await h.balances()

        async let first = h.facilitator.settle(payment, requirements: .v2(requirements))
        async let second = h.facilitator.settle(payment, requirements: .v2(requirements))
        let answers = await [first, second]
        let third = await h.facilitator.settle(payment, requirements: .v2(requirements))

        let successes = (answers + [third]).filter(\.success)
        #expect(successes.count == 1, "\(answers + [third])")
        for refused in (answers + [third]).filter({ !$0.success }) {
            #expect(refused.errorReason?.rawValue == "duplicate_settlement", "\(refused)")
        }
        let after = try await h.balances()
        #expect(before.payer - after.payer == Self.price)
        #expect(after.wallet - before.wallet == Self.price)
    }

    @Test("two facilitator instances on one database settle a payment once")
    func twoInstances() async throws {
        let net = try await SVMNet.shared()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("svm-instances-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let storeA = try SQLiteSettlementStore(path: path)
        let storeB = try SQLiteSettlementStore(path: path)
        let h = try await Harness(net, records: storeA)
        let other = Harness.facilitator(net, records: storeB)
        let requirements = h.requirements()
        let payment = try await h.pay(requirements)
        let before = try await h.balances()

        async let a = h.facilitator.settle(payment, requirements: .v2(requirements))
        async let b = other.settle(payment, requirements: .v2(requirements))
        let answers = await [a, b]
        let late = await other.settle(payment, requirements: .v2(requirements))

        #expect(answers.contains { $0.success }, "\(answers)")
        #expect(!late.success, "\(late)")
        let after = try await h.balances()
        #expect(before.payer - after.payer == Self.price, "\(answers)")
        #expect(after.wallet - before.wallet == Self.price)
    }
}

/// Two facilitator instances on one PostgreSQL database (rows and the per-payment advisory lock).
@Suite(.svmnet, .postgres, .serialized)
struct ExactSVMPostgresIntegrationTests {
    @Test("two instances on PostgreSQL racing on one payment: it lands once, one success and one duplicate")
    func twoInstancesOnPostgres() async throws {
        let net = try await SVMNet.shared()
        let database = try await TestPostgres.open()
        defer { database.close() }
        let store = try await PostgresSettlementStore(database: database, lockConnections: 2)
        func instance() -> ExactSVMFacilitator {
            var options = ExactSVMFacilitator.Options()
            options.confirmationInterval = .milliseconds(100)
            options.confirmationAttempts = 100
            return ExactSVMFacilitator(nodes: [net.network: net.rpc], feePayers: net.feePayers, options: options, records: store, exclusion: store)
        }
        let h = try await ExactSVMIntegrationTests.Harness(net, records: store)
        let requirements = h.requirements()
        let payment = try await h.pay(requirements)
        let before = try await h.balances()
        let (a, b) = (instance(), instance())

        async let first = SettlementIdempotency.$current.withValue("x402-svm-pg-owner-0001") {
            await a.settle(payment, requirements: .v2(requirements))
        }
        async let second = b.settle(payment, requirements: .v2(requirements))
        let answers = await [first, second]
        #expect(answers.filter(\.success).count == 1, "\(answers)")
        #expect(answers.filter { $0.errorReason?.rawValue == "duplicate_settlement" }.count == 1, "\(answers)")
        let after = try await h.balances()
        #expect(before.payer - after.payer == ExactSVMIntegrationTests.price)
        #expect(after.wallet - before.wallet == ExactSVMIntegrationTests.price)
    }
}
