import Foundation
import Testing
import X402
import X402Solana

@Suite struct ExactSVMTests {
    static let facilitatorKey = try! SolanaKeypair(seed: Hex.decode(SVMVectors.json["facilitator"]!["seedHex"]!.string))

    static func payload(_ v: JSONValue) throws -> AnyPaymentPayload { try AnyPaymentPayload(json: v["paymentPayload"]!) }
    static func requirements(_ v: JSONValue) throws -> AnyPaymentRequirements {
        try AnyPaymentRequirements(json: v["paymentRequirements"]!, version: .v2)
    }

    static func node() -> FakeSolanaRPC {
        let node = FakeSolanaRPC()
        // The Token-2022 vector's mint.
        for v in SVMVectors.section("vectors") {
            let inputs = v["inputs"]!
            node.accounts[inputs["mint"]!.string] = SolanaAccountInfo(
                owner: inputs["tokenProgram"]!.string, lamports: 1,
                data: [UInt8](repeating: 0, count: 44) + [UInt8(inputs["decimals"]!.int), 1] + [UInt8](repeating: 0, count: 36),
                executable: false)
        }
        return node
    }

    static func facilitator(
        _ node: FakeSolanaRPC, maximumInstructions: Int = 7, records: any SchemeSettlementRowStore = InMemorySchemeSettlementRows(),
        attempts: Int = 5, keys: [SolanaKeypair] = [facilitatorKey]
    ) -> ExactSVMFacilitator {
        var options = ExactSVMFacilitator.Options()
        options.maximumInstructions = maximumInstructions
        options.confirmationInterval = .milliseconds(1)
        options.confirmationAttempts = attempts
        return ExactSVMFacilitator(
            nodes: [.solanaMainnet: node, .solanaDevnet: node, .solanaTestnet: node], feePayers: keys, options: options, records: records)
    }

    // MARK: Verify vectors

    @Test func negativeCasesMatchTheReferenceReasonsAndPayer() async throws {
        let cases = SVMVectors.section("negativeCases")
        #expect(cases.count == 24)
        for c in cases {
            let node = Self.node()
            // The vectors come from the TS snapshot that allowed 6 instructions.
            let facilitator = Self.facilitator(node, maximumInstructions: 6)
            let result = await facilitator.verify(try Self.payload(c), requirements: try Self.requirements(c))
            #expect(!result.isValid, "\(c["name"]!.string)")
            #expect(result.invalidReason?.rawValue == c["expectedInvalidReason"]!.string, "\(c["name"]!.string): \(result.invalidMessage ?? "")")
            #expect((result.payer ?? "") == c["expectedPayer"]!.string, "\(c["name"]!.string)")
            // Static first: a statically refused payment costs no node call.
            #expect(node.callLog.isEmpty, "\(c["name"]!.string) called \(node.callLog)")
        }
    }

    @Test func sevenInstructionsAreAllowedByDefault() async throws {
        let c = try #require(SVMVectors.section("negativeCases").first { $0["name"]!.string == "too-many-instructions" })
        let result = await Self.facilitator(Self.node()).verify(try Self.payload(c), requirements: try Self.requirements(c))
        #expect(result.invalidReason != .exactSVMInstructionsLength)
    }

    @Test func positiveVectorsAndVariantsVerify() async throws {
        let all = SVMVectors.section("vectors") + SVMVectors.section("positiveVariants")
        #expect(all.count == 7)
        for v in all {
            let node = Self.node()
            let result = await Self.facilitator(node).verify(try Self.payload(v), requirements: try Self.requirements(v))
            #expect(result.isValid, "\(v["name"]!.string): \(result.invalidReason?.rawValue ?? "") \(result.invalidMessage ?? "")")
            #expect(result.payer == v["expectedVerifyStatic"]!["payer"]!.string)
            #expect(node.callLog == ["getAccountInfo", "simulateTransaction"])
            // The simulated transaction carries the facilitator's signature and verifies fully.
            let simulated = try SolanaTransaction(base64: node.with { node.simulated[0] })
            #expect(simulated.isFullySigned)
            if v["fullySignedTransactionBase64"] != nil {
                #expect(simulated.base64 == v["fullySignedTransactionBase64"]!.string)
            }
        }
    }

    @Test func simulationFailureAndTokenExtensionsAreRefused() async throws {
        let v = SVMVectors.section("vectors")[0]
        let node = Self.node()
        node.simulationError = ["InstructionError": [2, ["Custom": 1]]]
        var result = await Self.facilitator(node).verify(try Self.payload(v), requirements: try Self.requirements(v))
        #expect(result.invalidReason == .transactionSimulationFailed)
        #expect(result.payer == v["expectedVerifyStatic"]!["payer"]!.string)

        let t22 = SVMVectors.section("vectors")[2]
        let ext = Self.node()
        let mint = t22["inputs"]!["mint"]!.string
        // 165-byte base, account type 1 (mint), TLV: TransferFeeConfig (1), 108 bytes.
        var data = [UInt8](repeating: 0, count: 165) + [1]
        data[44] = 6
        data += [1, 0, 108, 0] + [UInt8](repeating: 0, count: 108)
        ext.accounts[mint] = SolanaAccountInfo(owner: SolanaPublicKey.token2022Program.base58, lamports: 1, data: data, executable: false)
        result = await Self.facilitator(ext).verify(try Self.payload(t22), requirements: try Self.requirements(t22))
        #expect(result.invalidReason == .exactSVMMintExtensionNotSupported)
        #expect(!ext.callLog.contains("simulateTransaction"))
        // A transfer hook (14) after a harmless extension (e.g. MetadataPointer, 18) too.
        data =
            [UInt8](repeating: 0, count: 165) + [1] + [18, 0, 64, 0] + [UInt8](repeating: 0, count: 64) + [14, 0, 64, 0]
            + [UInt8](repeating: 0, count: 64)
        ext.accounts[mint] = SolanaAccountInfo(owner: SolanaPublicKey.token2022Program.base58, lamports: 1, data: data, executable: false)
        result = await Self.facilitator(ext).verify(try Self.payload(t22), requirements: try Self.requirements(t22))
        #expect(result.invalidReason == .exactSVMMintExtensionNotSupported)
        // A mint owned by another program than the instruction's.
        ext.accounts[mint] = SolanaAccountInfo(owner: SolanaPublicKey.tokenProgram.base58, lamports: 1, data: data, executable: false)
        result = await Self.facilitator(ext).verify(try Self.payload(t22), requirements: try Self.requirements(t22))
        #expect(result.invalidReason == .exactSVMMintMismatch)
    }

    @Test func tamperedSignatureAndComputeLimitCapAreRefusedStatically() async throws {
        let v = SVMVectors.section("vectors")[0]
        var tx = try SolanaTransaction(base64: v["partiallySignedTransactionBase64"]!.string)
        var bytes = tx.signatures[1].bytes
        bytes[5] ^= 0x40
        tx.signatures[1] = SolanaSignature(bytes: bytes)!
        let payload = try AnyPaymentPayload(json: Self.replacingTransaction(v["paymentPayload"]!, with: tx.base64))
        let node = Self.node()
        var result = await Self.facilitator(node).verify(payload, requirements: try Self.requirements(v))
        #expect(result.invalidReason == .exactSVMSignatureInvalid)
        #expect(node.callLog.isEmpty)

        var options = ExactSVMFacilitator.Options()
        options.maximumComputeUnitLimit = 10_000
        let capped = ExactSVMFacilitator(nodes: [.solanaMainnet: node], feePayers: [Self.facilitatorKey], options: options)
        result = await capped.verify(try Self.payload(v), requirements: try Self.requirements(v))
        #expect(result.invalidReason == .exactSVMComputeLimitTooHigh)
    }

    static func replacingTransaction(_ payload: JSONValue, with transaction: String) -> JSONValue {
        guard var object = payload.objectValue else { return payload }
        object["payload"] = ["transaction": .string(transaction)]
        return .object(object)
    }

    // MARK: Client

    @Test func clientReproducesTheSellerMemoVectorByteForByte() async throws {
        let v = SVMVectors.section("vectors")[1]
        let inputs = v["inputs"]!
        let payer = try SolanaKeypair(seed: Hex.decode(inputs["payerSeedHex"]!.string))
        let node = Self.node()
        let client = ExactSVMClient(signer: payer, rpc: node)
        guard case .v2(var requirements) = try Self.requirements(v) else {
            Issue.record("v2 expected")
            return
        }
        requirements.extra?["recentBlockhash"] = .string(inputs["recentBlockhash"]!.string)
        let transaction = try await client.transaction(for: requirements)
        #expect(Hex.encode(transaction.messageBytes) == v["messageBytesHex"]!.string)
        #if os(Linux)
        #expect(transaction.base64 == v["partiallySignedTransactionBase64"]!.string)
        #endif
        #expect(!node.callLog.contains("getLatestBlockhash"))
    }

    @Test func clientOutputVerifiesAtTheFacilitator() async throws {
        for v in SVMVectors.section("vectors") {
            let payer = try SolanaKeypair(seed: Hex.decode(v["inputs"]!["payerSeedHex"]!.string))
            let node = Self.node()
            let client = ExactSVMClient(signer: payer, rpc: node)
            guard case .v2(let requirements) = try Self.requirements(v) else { continue }
            let scheme = try await client.createPayload(for: requirements, context: PaymentContext(version: .v2))
            let text = try #require(scheme.payload["transaction"]?.stringValue)
            let tx = try SolanaTransaction(base64: text)
            #expect(tx.message.version == .v0)
            #expect(tx.signatures[0].isEmpty)
            let ix = try tx.message.decompile()
            #expect(ix.count == 4)
            #expect(ComputeBudgetInstruction.parseComputeUnitLimit(ix[0].data) == 20_000)
            #expect(ComputeBudgetInstruction.parseComputeUnitPrice(ix[1].data) == 1)
            if let memo = requirements.extra?["memo"]?.stringValue {
                #expect(ix[3].data == Array(memo.utf8))
            } else {
                #expect(ix[3].data.count == 32)
                #expect(ix[3].data.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
            }
            let payload = AnyPaymentPayload.v2(PaymentPayload(accepted: requirements, payload: scheme.payload))
            let result = await Self.facilitator(node).verify(payload, requirements: .v2(requirements))
            #expect(result.isValid, "\(result.invalidReason?.rawValue ?? "")")
            #expect(result.payer == payer.publicKey.base58)
        }
    }

    @Test func clientRefusesBadRequirements() async throws {
        let v = SVMVectors.section("vectors")[0]
        let payer = try SolanaKeypair(seed: Hex.decode(v["inputs"]!["payerSeedHex"]!.string))
        let node = Self.node()
        let client = ExactSVMClient(signer: payer, rpc: node)
        guard case .v2(let base) = try Self.requirements(v) else { return }
        var r = base
        r.extra = [:]
        await #expect(throws: ExactSVMClientError.missingFeePayer) { try await client.transaction(for: r) }
        r = base
        r.extra?["memo"] = .string(String(repeating: "m", count: 257))
        await #expect(throws: ExactSVMClientError.memoTooLong(257)) { try await client.transaction(for: r) }
        r = base
        r.asset = SolanaPublicKey.systemProgram.base58
        node.accounts[r.asset] = SolanaAccountInfo(owner: SolanaPublicKey.systemProgram.base58, lamports: 1, data: [], executable: false)
        await #expect(throws: ExactSVMClientError.notATokenMint(r.asset, owner: SolanaPublicKey.systemProgram.base58)) {
            try await client.transaction(for: r)
        }
        r = base
        r.amount = "-1"
        await #expect(throws: ExactSVMClientError.invalidAmount("-1")) { try await client.transaction(for: r) }
    }

    // MARK: Server

    @Test func serverPricesInUSDCAndCopiesTheFeePayer() async throws {
        let server = ExactSVMServer()
        let amount = try server.assetAmount(for: .dollars("0.01"), on: .solanaMainnet)
        #expect(amount.amount == UInt256(10_000))
        #expect(amount.asset == "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
        #expect(try server.assetAmount(for: .dollars("1"), on: .solanaDevnet).asset == "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU")
        #expect(throws: ExactSVMServerError.unsupportedNetwork("eip155:8453")) { try server.assetAmount(for: .dollars("1"), on: .eip155(8453)) }
        let requirements = PaymentRequirements(
            scheme: "exact", network: .solanaMainnet, amount: "10000", asset: amount.asset, payTo: "2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4",
            maxTimeoutSeconds: 60, extra: [:])
        let kind = SupportedKind(
            x402Version: .v2, scheme: "exact", network: Network.solanaMainnet.identifier,
            extra: ["feePayer": "Hg7RG47urgdpsacTdrbTPgxe4gCviAb4EuHb4o33CdSK"])
        let enhanced = try await server.enhance(requirements, supportedKind: kind, facilitatorExtensions: [])
        #expect(enhanced.extra?["feePayer"]?.stringValue == "Hg7RG47urgdpsacTdrbTPgxe4gCviAb4EuHb4o33CdSK")
        let other = SupportedKind(
            x402Version: .v2, scheme: "exact", network: Network.solanaMainnet.identifier,
            extra: ["feePayer": "6LoYkcpwSMbG3UMyhx2QmZhCMpA1r1Lina9EU2dDW6v8"])
        #expect(try await server.enhance(enhanced, supportedKind: other, facilitatorExtensions: []).extra?["feePayer"] == enhanced.extra?["feePayer"])
        await #expect(throws: ExactSVMServerError.self) { try await server.enhance(requirements, supportedKind: nil, facilitatorExtensions: []) }
    }

    @Test func supportedRotatesFeePayers() async throws {
        let second = try SolanaKeypair(seed: [UInt8](repeating: 7, count: 32))
        let facilitator = Self.facilitator(Self.node(), keys: [Self.facilitatorKey, second])
        #expect(facilitator.signers(for: .solanaMainnet) == [Self.facilitatorKey.publicKey.base58, second.publicKey.base58])
        #expect(facilitator.signers(for: .eip155(1)).isEmpty)
        var seen: [String] = []
        for _ in 0..<4 { seen.append(await facilitator.supportedExtra(for: .solanaMainnet)?["feePayer"]?.stringValue ?? "") }
        #expect(
            seen == [Self.facilitatorKey.publicKey.base58, second.publicKey.base58, Self.facilitatorKey.publicKey.base58, second.publicKey.base58])
        #expect(await facilitator.supportedExtra(for: .eip155(1)) == nil)
    }

    @Test func eachNetworkPaysFromItsOwnFeePayers() async throws {
        let devnetKey = try SolanaKeypair(seed: [UInt8](repeating: 9, count: 32))
        let node = Self.node()
        let facilitator = ExactSVMFacilitator(
            nodes: [.solanaMainnet: node, .solanaDevnet: node],
            feePayersByNetwork: [.solanaMainnet: [Self.facilitatorKey], .solanaDevnet: [devnetKey]])
        #expect(facilitator.signers(for: .solanaMainnet) == [Self.facilitatorKey.publicKey.base58])
        #expect(facilitator.signers(for: .solanaDevnet) == [devnetKey.publicKey.base58])
        #expect(await facilitator.supportedExtra(for: .solanaDevnet)?["feePayer"]?.stringValue == devnetKey.publicKey.base58)
        // The mainnet vector, paid with mainnet's fee payer, verifies.
        let v = Self.vector
        #expect(await facilitator.verify(try Self.payload(v), requirements: try Self.requirements(v)).isValid)
        // The same payment on a facilitator whose mainnet has only the devnet key: the mainnet
        // fee payer is not one of mainnet's, though the process holds it for devnet.
        let swapped = ExactSVMFacilitator(
            nodes: [.solanaMainnet: node, .solanaDevnet: node],
            feePayersByNetwork: [.solanaMainnet: [devnetKey], .solanaDevnet: [Self.facilitatorKey]])
        let refused = await swapped.verify(try Self.payload(v), requirements: try Self.requirements(v))
        #expect(refused.invalidReason == .exactSVMFeePayerNotManaged, "\(refused)")
    }

    // MARK: Settle

    static var vector: JSONValue { SVMVectors.section("vectors")[0] }

    @Test func settleSendsOnceAndAnswersRetriesWithTheSameSignature() async throws {
        let node = Self.node()
        let records = InMemorySchemeSettlementRows()
        let facilitator = Self.facilitator(node, records: records)
        let v = Self.vector
        let first = await facilitator.settle(try Self.payload(v), requirements: try Self.requirements(v))
        #expect(first.success, "\(first.errorReason?.rawValue ?? "") \(first.errorMessage ?? "")")
        #expect(first.transaction == v["transactionId"]!.string)
        #expect(first.payer == v["expectedVerifyStatic"]!["payer"]!.string)
        #expect(first.network == Network.solanaMainnet.identifier)
        #expect(node.sentCount == 1)
        #if os(Linux)
        #expect(node.with { node.sent[0] } == v["fullySignedTransactionBase64"]!.string)
        #endif
        // A repeat without an Idempotency-Key in process: a duplicate carrying the signature, nothing sent
        // (a seller without a replay store must not serve the payment twice).
        let again = await facilitator.settle(try Self.payload(v), requirements: try Self.requirements(v))
        #expect(!again.success && again.errorReason == .duplicateSettlement && again.transaction == first.transaction, "\(again)")
        #expect(node.sentCount == 1)
        // Another instance sharing the rows: the same, nothing sent.
        let other = Self.facilitator(node, records: records)
        let otherAnswer = await other.settle(try Self.payload(v), requirements: try Self.requirements(v))
        #expect(!otherAnswer.success && otherAnswer.errorReason == .duplicateSettlement && otherAnswer.transaction == first.transaction)
        #expect(node.sentCount == 1)
        // A keyed request is not given the success of a settlement it does not own.
        let foreign = await SettlementIdempotency.$current.withValue("x402-other-request-0001") {
            await other.settle(try! Self.payload(v), requirements: try! Self.requirements(v))
        }
        // A fresh instance without the rows finds the transaction on chain: that run is the settlement.
        let owned = await SettlementIdempotency.$current.withValue("x402-owner-request-0001") {
            await Self.facilitator(node).settle(try! Self.payload(v), requirements: try! Self.requirements(v))
        }
        #expect(owned.success)
        #expect(!foreign.success && foreign.errorReason == .duplicateSettlement)
        let row = try #require(
            await records.schemeRecord(
                key: "solana:" + Hex.encode(try SolanaTransaction(base64: v["partiallySignedTransactionBase64"]!.string).messageHash)))
        #expect(row.status == "succeeded")
        #expect(row.transaction == first.transaction)
    }

    @Test func settleOwnedByAnotherRequestIsADuplicate() async throws {
        let node = Self.node()
        let records = InMemorySchemeSettlementRows()
        let v = Self.vector
        let first = await SettlementIdempotency.$current.withValue("x402-owner-request-0001") {
            await Self.facilitator(node, records: records).settle(try! Self.payload(v), requirements: try! Self.requirements(v))
        }
        #expect(first.success)
        let foreign = await SettlementIdempotency.$current.withValue("x402-other-request-0001") {
            await Self.facilitator(node, records: records).settle(try! Self.payload(v), requirements: try! Self.requirements(v))
        }
        #expect(!foreign.success)
        #expect(foreign.errorReason == .duplicateSettlement)
        #expect(foreign.transaction == first.transaction)
        #expect(node.sentCount == 1)
    }

    @Test func settleOfATransactionAlreadyLandedDoesNotSend() async throws {
        let node = Self.node()
        node.statusBeforeSend = SolanaSignatureStatus(slot: 9, confirmations: nil, error: nil, confirmationStatus: .finalized)
        let v = Self.vector
        let result = await Self.facilitator(node).settle(try Self.payload(v), requirements: try Self.requirements(v))
        #expect(result.success)
        #expect(result.transaction == v["transactionId"]!.string)
        #expect(node.sentCount == 0)
        #expect(!node.callLog.contains("simulateTransaction"))
    }

    @Test func settleStatusErrorIsInvalidTransactionState() async throws {
        let node = Self.node()
        node.statuses = [
            nil, SolanaSignatureStatus(slot: 9, confirmations: 1, error: ["InstructionError": [2, ["Custom": 1]]], confirmationStatus: .confirmed),
        ]
        let records = InMemorySchemeSettlementRows()
        let v = Self.vector
        let result = await Self.facilitator(node, records: records).settle(try Self.payload(v), requirements: try Self.requirements(v))
        #expect(!result.success)
        #expect(result.errorReason == .invalidTransactionState)
        #expect(result.transaction == v["transactionId"]!.string)
        // Final: a retry gets the recorded failure without sending.
        let again = await Self.facilitator(node, records: records).settle(try Self.payload(v), requirements: try Self.requirements(v))
        #expect(again.errorReason == .invalidTransactionState)
        #expect(node.sentCount == 1)
    }

    @Test func settleStopsWaitingOnAnExpiredTransaction() async throws {
        let node = Self.node()
        node.statuses = [nil]
        node.blockHeights = [100, 300]
        let v = Self.vector
        let result = await Self.facilitator(node, attempts: 30).settle(try Self.payload(v), requirements: try Self.requirements(v))
        #expect(result.errorReason == .exactSVMBlockHeightExceeded)
        #expect(result.transaction == v["transactionId"]!.string)
        #expect(node.callLog.filter { $0 == "getBlockHeight" }.count == 2)
    }

    @Test func settleUnconfirmedIsPendingAndResumable() async throws {
        let node = Self.node()
        node.statuses = [nil, nil, nil, SolanaSignatureStatus(slot: 9, confirmations: 3, error: nil, confirmationStatus: .confirmed)]
        let records = InMemorySchemeSettlementRows()
        let v = Self.vector
        // The seller's settlement id (Idempotency-Key) owns the settlement across its retries.
        let owner = "x402-owner-request-0002"
        let pending = await SettlementIdempotency.$current.withValue(owner) {
            await Self.facilitator(node, records: records, attempts: 2).settle(try! Self.payload(v), requirements: try! Self.requirements(v))
        }
        #expect(pending.errorReason == .settlementPending)
        #expect(pending.transaction == v["transactionId"]!.string)
        // A repeat without the key is not given the outcome (it may be another buyer's replay).
        let stranger = await Self.facilitator(node, records: records, attempts: 1).settle(try Self.payload(v), requirements: try Self.requirements(v))
        #expect(!stranger.success && stranger.errorReason == .duplicateSettlement)
        // The owner's retry resumes: the node now confirms it, nothing new is simulated.
        let resumed = await SettlementIdempotency.$current.withValue(owner) {
            await Self.facilitator(node, records: records, attempts: 3).settle(try! Self.payload(v), requirements: try! Self.requirements(v))
        }
        #expect(resumed.success, "\(resumed)")
        #expect(resumed.transaction == pending.transaction)
    }

    @Test func settleSendErrorFailsAndCanBeRetried() async throws {
        let node = Self.node()
        node.sendError = SolanaRPCError(.node(code: -32002), "Transaction simulation failed: Blockhash not found")
        let records = InMemorySchemeSettlementRows()
        let facilitator = Self.facilitator(node, records: records)
        let v = Self.vector
        let failed = await facilitator.settle(try Self.payload(v), requirements: try Self.requirements(v))
        #expect(failed.errorReason == .transactionFailed)
        #expect(failed.transaction == "")
        #expect(failed.payer == v["expectedVerifyStatic"]!["payer"]!.string)
        node.with { node.sendError = nil }
        let retried = await facilitator.settle(try Self.payload(v), requirements: try Self.requirements(v))
        #expect(retried.success)
        #expect(node.sentCount == 1)
        #expect(node.callLog.filter { $0 == "sendTransaction" }.count == 2)
    }

    @Test func settleRefusesWhatVerifyRefuses() async throws {
        let c = try #require(SVMVectors.section("negativeCases").first { $0["name"]!.string == "amount-mismatch-over" })
        let node = Self.node()
        let result = await Self.facilitator(node).settle(try Self.payload(c), requirements: try Self.requirements(c))
        #expect(result.errorReason == .exactSVMAmountMismatch)
        #expect(node.callLog.isEmpty)
        let simFail = Self.node()
        simFail.simulationError = "AccountNotFound"
        let r2 = await Self.facilitator(simFail).settle(try Self.payload(Self.vector), requirements: try Self.requirements(Self.vector))
        #expect(r2.errorReason == .transactionSimulationFailed)
        #expect(simFail.sentCount == 0)
    }

    @Test func v1PaymentsUseTheLegacyNetworkName() async throws {
        let v = Self.vector
        let tx = v["partiallySignedTransactionBase64"]!.string
        let payload = AnyPaymentPayload.v1(PaymentPayloadV1(scheme: "exact", network: "solana", payload: ["transaction": .string(tx)]))
        let r = v["paymentRequirements"]!
        let requirements = AnyPaymentRequirements.v1(
            PaymentRequirementsV1(
                scheme: "exact", network: "solana", maxAmountRequired: r["amount"]!.string, resource: "https://example.com/weather",
                payTo: r["payTo"]!.string, asset: r["asset"]!.string, extra: r["extra"]!.objectValue))
        let node = Self.node()
        let facilitator = Self.facilitator(node)
        let verdict = await facilitator.verify(payload, requirements: requirements)
        #expect(verdict.isValid, "\(verdict.invalidReason?.rawValue ?? "")")
        let settled = await facilitator.settle(payload, requirements: requirements)
        #expect(settled.success)
        #expect(settled.network == "solana")
        let mismatch = AnyPaymentPayload.v1(PaymentPayloadV1(scheme: "exact", network: "solana-devnet", payload: ["transaction": .string(tx)]))
        #expect(await facilitator.verify(mismatch, requirements: requirements).invalidReason == .networkMismatch)
    }
}
