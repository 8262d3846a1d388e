import Testing
import X402
import X402EVM
import X402EVMRPC

/// ``JSONRPCClient`` against the real devnet (Tools/devnet). See README.md in this folder.
@Suite("JSON-RPC client on the devnet", .devnet)
struct JSONRPCIntegrationTests {
    static let transferTopic = Keccak256.hash(utf8: "Transfer(address,address,uint256)")

    func tokenCall(_ devnet: Devnet, _ signature: String, returns type: String) async throws -> ABIValue {
        let data = try await devnet.client.call(CallRequest(to: devnet.token, data: try ABI.encodeCall(signature, [])), at: .latest)
        return try #require(try ABI.decode([type], from: data).first)
    }

    @Test("chain id, code and token metadata")
    func chainAndToken() async throws {
        let devnet = try await Devnet.shared()
        #expect(try await devnet.client.chainID() == 84532)
        #expect(devnet.chainID == 84532)
        #expect(devnet.network == "eip155:84532")
        #expect(devnet.token == (try EthereumAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e")))

        let code = try await devnet.client.code(at: devnet.token, at: .latest)
        #expect(code.count > 100)
        #expect(try await devnet.client.code(at: devnet.multicall3, at: .pending).isEmpty == false)
        #expect(try await devnet.client.code(at: devnet.randomAddress(), at: .latest).isEmpty)
        #expect(try await devnet.client.code(at: devnet.token, at: .earliest) == code)

        #expect(try await tokenCall(devnet, "name()", returns: "string") == .string("USDC"))
        #expect(try await tokenCall(devnet, "symbol()", returns: "string") == .string("USDC"))
        #expect(try await tokenCall(devnet, "version()", returns: "string") == .string("2"))
        #expect(try await tokenCall(devnet, "decimals()", returns: "uint8") == .uint(6))
        #expect(try await devnet.client.blockNumber() >= 0)
    }

    @Test("a transferWithAuthorization signed by the wrong key reverts with the token's reason and data")
    func revertCarriesReason() async throws {
        let devnet = try await Devnet.shared()
        let domain = EIP712Domain(name: "USDC", version: "2", chainId: UInt256(devnet.chainID), verifyingContract: devnet.token)
        let authorization = TransferWithAuthorization(
            from: devnet.payer.address, to: devnet.randomAddress(), value: 1,
            validAfter: 0, validBefore: UInt256(UInt64.max), nonce: .random()
        )
        let signature = authorization.sign(with: .random(), in: domain)  // valid signature, wrong signer
        let data = try ABI.encodeCall(
            "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)",
            [
                .address(authorization.from), .address(authorization.to), .uint(authorization.value),
                .uint(authorization.validAfter), .uint(authorization.validBefore), .bytes32(authorization.nonce),
                .uint(UInt256(UInt64(signature.v))), .bytes32(signature.r), .bytes32(signature.s),
            ]
        )
        let request = CallRequest(from: devnet.facilitator.address, to: devnet.token, data: data)
        for attempt in 0..<2 {
            let error = await #expect(throws: EthereumClientError.self) {
                if attempt == 0 {
                    _ = try await devnet.client.call(request, at: .latest)
                } else {
                    _ = try await devnet.client.estimateGas(request)
                }
            }
            guard case .node(let code, let message, let revertData) = error else {
                Issue.record("expected a node error, got \(String(describing: error))")
                continue
            }
            #expect(code == 3)
            #expect(message == "execution reverted: FiatTokenV2: invalid signature")
            let bytes = try #require(revertData)
            #expect(RevertReason(data: bytes) == .error("FiatTokenV2: invalid signature"))
            #expect(error?.revertData == bytes)
        }

        // The correct signer makes the same call succeed (payer 0 holds USDC).
        let valid = authorization.sign(with: devnet.payer.key, in: domain)
        var good = request
        good.data = try ABI.encodeCall(
            "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)",
            [
                .address(authorization.from), .address(authorization.to), .uint(authorization.value),
                .uint(authorization.validAfter), .uint(authorization.validBefore), .bytes32(authorization.nonce),
                .bytes(valid.bytes),
            ]
        )
        #expect(try await devnet.client.call(good, at: .pending).isEmpty)
        #expect(try await devnet.client.estimateGas(good) > 21_000)
    }

    @Test("an EIP-1559 ERC-20 transfer: send, receipt, Transfer log, exact balance changes")
    func erc20Transfer() async throws {
        let devnet = try await Devnet.shared()
        let client = devnet.client
        let sender = try await devnet.freshAccount(usdc: 5_000_000)
        let recipient = devnet.randomAddress()
        let amount: UInt256 = 1_234_567
        #expect(try await devnet.usdcBalance(of: sender.address) == 5_000_000)
        #expect(try await devnet.usdcBalance(of: recipient) == 0)
        let ethBefore = try await client.balance(of: sender.address, at: .latest)
        #expect(ethBefore == Devnet.defaultETH)

        let data = try ABI.encodeCall("transfer(address,uint256)", [.address(recipient), .uint(amount)])
        let call = CallRequest(from: sender.address, to: devnet.token, data: data)
        #expect(try await client.call(call, at: .latest) == (try ABI.encode([.bool(true)], as: ["bool"])))
        let gas = try await client.estimateGas(call)
        #expect(gas > 21_000 && gas < 200_000)

        let nonce = try await client.transactionCount(of: sender.address, at: .pending)
        #expect(nonce == 0)
        let tip = try await client.maxPriorityFeePerGas()
        let history = try await client.feeHistory(blockCount: 1, newestBlock: .latest, rewardPercentiles: [])
        let nextBaseFee = try #require(history.baseFeePerGas.last)
        let transaction = EIP1559Transaction(
            chainId: devnet.chainID, nonce: nonce, maxPriorityFeePerGas: tip, maxFeePerGas: nextBaseFee * 2 + tip,
            gasLimit: gas * 2, to: devnet.token, data: data
        )
        let signed = transaction.signed(with: sender.key)
        let hash = try await client.sendRawTransaction(signed.rawBytes)
        #expect(hash == signed.hash)
        #expect(try await client.transactionCount(of: sender.address, at: .pending) == 1)

        let receipt = try await devnet.waitForReceipt(hash)
        #expect(receipt.succeeded)
        #expect(receipt.transactionHash == hash)
        #expect(receipt.from == sender.address)
        #expect(receipt.to == devnet.token)
        #expect(receipt.contractAddress == nil)
        #expect(receipt.blockHash != nil)
        #expect(receipt.gasUsed > 21_000 && receipt.gasUsed <= transaction.gasLimit)
        let price = try #require(receipt.effectiveGasPrice)
        #expect(price <= transaction.maxFeePerGas)
        #expect(try await client.blockNumber() >= receipt.blockNumber)

        let transfers = receipt.logs.filter { $0.address == devnet.token && $0.topics.first == Self.transferTopic }
        #expect(transfers.count == 1)
        let log = try #require(transfers.first)
        #expect(log.topics == [Self.transferTopic, sender.address.word, recipient.word])
        #expect(log.data == Bytes32(amount).bytes)

        #expect(try await devnet.usdcBalance(of: sender.address) == 5_000_000 - amount)
        #expect(try await devnet.usdcBalance(of: recipient) == amount)
        let ethAfter = try await client.balance(of: sender.address, at: .latest)
        #expect(ethAfter == ethBefore - UInt256(receipt.gasUsed) * price)
        #expect(try await client.transactionCount(of: sender.address, at: .latest) == 1)

        // Sending the same bytes again is answered "already known": the client returns the same hash.
        #expect(try await client.sendRawTransaction(signed.rawBytes) == hash)
        // A different transaction reusing the nonce is a node error, not reconciled.
        var replay = transaction
        replay.gasLimit += 1
        let error = await #expect(throws: EthereumClientError.self) {
            _ = try await client.sendRawTransaction(replay.signed(with: sender.key).rawBytes)
        }
        guard case .node(let code, let message, _) = error else {
            Issue.record("expected a node error, got \(String(describing: error))")
            return
        }
        #expect(code == -32000)
        #expect(message.contains("nonce too low"))
    }

    @Test("pending nonce counts executed and queued transactions; latest only mined ones")
    func pendingVersusLatestNonce() async throws {
        let devnet = try await Devnet.shared()
        let client = devnet.client
        let sender = try await devnet.freshAccount()
        let sink = devnet.randomAddress()
        let tip = try await client.maxPriorityFeePerGas()
        let maxFee = try await client.gasPrice() * 2 + tip
        func transfer(nonce: UInt64) -> SignedTransaction {
            EIP1559Transaction(
                chainId: devnet.chainID, nonce: nonce, maxPriorityFeePerGas: tip, maxFeePerGas: maxFee,
                gasLimit: 21_000, to: sink, value: UInt256(nonce + 1)
            ).signed(with: sender.key)
        }
        #expect(try await client.transactionCount(of: sender.address, at: .pending) == 0)
        #expect(try await client.transactionCount(of: sender.address, at: .latest) == 0)

        let first = transfer(nonce: 0)
        _ = try await client.sendRawTransaction(first.rawBytes)
        #expect(try await client.transactionCount(of: sender.address, at: .pending) == 1)
        #expect([0, 1].contains(try await client.transactionCount(of: sender.address, at: .latest)))
        _ = try await devnet.waitForReceipt(first.hash)
        #expect(try await client.transactionCount(of: sender.address, at: .latest) == 1)

        // Nonce 2 arrives before nonce 1: it is queued and not counted until the gap closes.
        let third = transfer(nonce: 2)
        _ = try await client.sendRawTransaction(third.rawBytes)
        #expect(try await client.transactionCount(of: sender.address, at: .pending) == 1)
        #expect(try await client.transactionReceipt(third.hash) == nil)
        let second = transfer(nonce: 1)
        _ = try await client.sendRawTransaction(second.rawBytes)
        #expect(try await client.transactionCount(of: sender.address, at: .pending) == 3)
        let receipts = [try await devnet.waitForReceipt(second.hash), try await devnet.waitForReceipt(third.hash)]
        #expect(receipts.allSatisfy { $0.succeeded })
        #expect(try await client.transactionCount(of: sender.address, at: .latest) == 3)
        #expect(try await client.balance(of: sink, at: .latest) == 1 + 2 + 3)
    }

    @Test("batch: results in call order, per-call errors kept")
    func batch() async throws {
        let devnet = try await Devnet.shared()
        let balanceOf = try ABI.encodeCall("balanceOf(address)", [.address(devnet.payer.address)])
        let unknownSelector: [UInt8] = [0xde, 0xad, 0xbe, 0xef]
        let results = try await devnet.client.batch([
            RPCCall("eth_chainId"),
            RPCCall("eth_getBalance", [EthereumJSON.address(devnet.facilitator.address), "latest"]),
            RPCCall("no_such_method"),
            RPCCall("eth_call", [EthereumJSON.callObject(CallRequest(to: devnet.token, data: balanceOf)), "latest"]),
            RPCCall("eth_call", [EthereumJSON.callObject(CallRequest(to: devnet.token, data: unknownSelector)), "latest"]),
            RPCCall("eth_blockNumber"),
        ])
        #expect(results.count == 6)
        #expect(try EthereumJSON.uint64(try results[0].get()) == 84532)
        #expect(try EthereumJSON.uint256(try results[1].get()) > 0)
        #expect(throws: EthereumClientError.self) { try results[2].get() }
        if case .failure(.node(let code, _, _)) = results[2] { #expect(code == -32601) } else { Issue.record("expected -32601") }
        let balance = try ABI.decode(["uint256"], from: try EthereumJSON.bytes(try results[3].get()))
        #expect(balance.first?.uintValue == (try await devnet.usdcBalance(of: devnet.payer.address)))
        if case .failure(.node(let code, let message, let data)) = results[4] {
            #expect(code == 3)
            #expect(message.hasPrefix("execution reverted"))
            #expect(data.map { RevertReason(data: $0) } == .empty)
        } else {
            Issue.record("expected a revert, got \(results[4])")
        }
        #expect(try EthereumJSON.uint64(try results[5].get()) <= (try await devnet.client.blockNumber()))
        #expect(try await devnet.client.batch([]).isEmpty)
    }

    @Test("fee history, gas price and priority fee are consistent")
    func fees() async throws {
        let devnet = try await Devnet.shared()
        let client = devnet.client
        let latest = try await client.blockNumber()
        let tip = try await client.maxPriorityFeePerGas()
        let price = try await client.gasPrice()
        #expect(tip > 0)
        #expect(price > tip)
        #expect(price < UInt256(1_000_000_000_000 as UInt64))  // well under 1000 gwei

        let count = Int(min(latest + 1, 4))
        let history = try await client.feeHistory(blockCount: count, newestBlock: .number(latest), rewardPercentiles: [25, 50, 75])
        #expect(history.oldestBlock == latest + 1 - UInt64(count))
        #expect(history.baseFeePerGas.count == count + 1)
        #expect(history.gasUsedRatio.count == count)
        #expect(history.gasUsedRatio.allSatisfy { (0...1).contains($0) })
        #expect(history.reward.count == count)
        #expect(history.reward.allSatisfy { $0.count == 3 })
        #expect(history.baseFeePerGas.allSatisfy { $0 > 0 })

        let noRewards = try await client.feeHistory(blockCount: 1, newestBlock: .latest, rewardPercentiles: [])
        #expect(noRewards.oldestBlock >= latest)
        #expect(noRewards.baseFeePerGas.count == 2)
        #expect(noRewards.reward.isEmpty)
    }

    @Test("reads at block tags; unknown receipts are nil; funding helpers")
    func readsAndHelpers() async throws {
        let devnet = try await Devnet.shared()
        let client = devnet.client
        #expect(try await client.transactionReceipt(.random()) == nil)
        let genesisBalance = try await client.balance(of: devnet.facilitator.address, at: .number(0))
        #expect(genesisBalance == (try #require(UInt256(decimal: "10000000000000000000000"))))
        #expect(try await client.balance(of: devnet.randomAddress(), at: .pending) == 0)

        let account = try await devnet.freshAccount(eth: 7, usdc: 42)
        #expect(try await client.balance(of: account.address, at: .latest) == 7)
        #expect(try await devnet.usdcBalance(of: account.address) == 42)
        try await devnet.setETHBalance(of: account.address, to: 0)
        #expect(try await client.balance(of: account.address, at: .latest) == 0)
    }
}
