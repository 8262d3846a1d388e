import Testing
import X402

@testable import X402EVM

/// Parsing and encoding of JSON-RPC values and answers (no network).
@Suite("JSON-RPC encoding and decoding")
struct JSONRPCDecodingTests {
    func json(_ text: String) throws -> JSONValue { try JSONValue(parsing: text) }

    // MARK: Quantities

    @Test(
        "quantities: strict 0x hex, leading zeros accepted",
        arguments: [
            ("0x0", UInt64(0)), ("0x00", 0), ("0x1", 1), ("0x14a34", 84532), ("0X14A34", 84532), ("0x0000000000014a34", 84532),
            ("0xffffffffffffffff", .max), ("0x0000ffffffffffffffff", .max),
        ])
    func quantities(text: String, value: UInt64) throws {
        #expect(try EthereumJSON.uint64(.string(text)) == value)
        #expect(try EthereumJSON.uint256(.string(text)) == UInt256(value))
    }

    @Test(
        "malformed quantities are invalidResponse",
        arguments: [
            "0x", "", "14a34", "0xg1", "0x 1", "-0x1", "0x1.5", "0x10000000000000000",
        ])
    func badQuantities(text: String) {
        #expect(throws: EthereumClientError.self) { try EthereumJSON.uint64(.string(text)) }
    }

    @Test("non-string quantities are rejected")
    func nonStringQuantities() throws {
        for value: JSONValue in [12, nil, true, ["0x1"]] {
            let error = #expect(throws: EthereumClientError.self) { try EthereumJSON.uint64(value, field: "gasUsed") }
            guard case .invalidResponse(let message) = error else {
                Issue.record("\(String(describing: error))")
                continue
            }
            #expect(message.hasPrefix("gasUsed:"))
        }
    }

    @Test("256-bit quantities")
    func wideQuantities() throws {
        let max = "0x" + String(repeating: "f", count: 64)
        #expect(try EthereumJSON.uint256(.string(max)) == .max)
        #expect(try EthereumJSON.uint256(.string("0x000" + max.dropFirst(2))) == .max)
        #expect(throws: EthereumClientError.self) { try EthereumJSON.uint256(.string(max + "0")) }
        #expect(try EthereumJSON.uint256(.string("0x21e19e0c9bab2400000")) == UInt256(decimal: "10000000000000000000000"))
    }

    @Test("quantity encoding has no leading zeros")
    func quantityEncoding() {
        #expect(EthereumJSON.quantity(UInt64(0)) == "0x0")
        #expect(EthereumJSON.quantity(UInt64(255)) == "0xff")
        #expect(EthereumJSON.quantity(UInt256.zero) == "0x0")
        #expect(EthereumJSON.quantity(UInt256(1) << 200) == .string("0x1" + String(repeating: "0", count: 50)))
        #expect(EthereumJSON.block(.number(0)) == "0x0")
        #expect(EthereumJSON.block(.pending) == "pending")
    }

    // MARK: Data, addresses, hashes

    @Test("data: 0x-prefixed, even length")
    func data() throws {
        #expect(try EthereumJSON.bytes("0x") == [])
        #expect(try EthereumJSON.bytes("0x00ff") == [0, 255])
        #expect(try EthereumJSON.bytes("0xABcd") == [0xab, 0xcd])
        for bad: JSONValue in ["0x0", "00ff", "0xzz", 5, nil] {
            #expect(throws: EthereumClientError.self) { try EthereumJSON.bytes(bad) }
        }
        #expect(EthereumJSON.data([0xde, 0xad]) == "0xdead")
        #expect(EthereumJSON.data([]) == "0x")
    }

    @Test("addresses and hashes must have their exact lengths")
    func fixedLengths() throws {
        let address = "0x036cbd53842c5426634e7929541ec2318f3dcf7e"
        #expect(try EthereumJSON.address(.string(address)) == EthereumAddress(address))
        #expect(throws: EthereumClientError.self) { try EthereumJSON.address("0x036cbd53842c5426634e7929541ec2318f3dcf") }
        #expect(try EthereumJSON.optionalAddress(nil, field: "to") == nil)
        #expect(try EthereumJSON.optionalAddress(.null, field: "to") == nil)
        let hash = "0x" + String(repeating: "ab", count: 32)
        #expect(try EthereumJSON.bytes32(.string(hash)).hexString == hash)
        #expect(throws: EthereumClientError.self) { try EthereumJSON.bytes32("0xabab") }
    }

    @Test("call objects carry only the set fields")
    func callObject() throws {
        let to = try EthereumAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e")
        #expect(EthereumJSON.callObject(CallRequest(to: to, data: [1])) == ["to": "0x036cbd53842c5426634e7929541ec2318f3dcf7e", "data": "0x01"])
        let full = EthereumJSON.callObject(CallRequest(from: .zero, to: to, data: [], value: 1_000_000, gas: 21_000))
        #expect(full["from"] == "0x0000000000000000000000000000000000000000")
        #expect(full["value"] == "0xf4240")
        #expect(full["gas"] == "0x5208")
    }

    // MARK: Receipts

    static let receiptJSON = """
        {"transactionHash":"0x5e5b1e6c4c4ff94e1f04b5c2a0a1e5b3c7a1b7b1a8b7c2d3e4f5a6b7c8d9e0f1","transactionIndex":"0x0",
         "blockHash":"0x1111111111111111111111111111111111111111111111111111111111111111","blockNumber":"0x2a",
         "from":"0x70997970c51812dc3a010c7d01b50e0d17dc79c8","to":"0x036cbd53842c5426634e7929541ec2318f3dcf7e",
         "cumulativeGasUsed":"0xdbba","gasUsed":"0x0dbba","effectiveGasPrice":"0xf4240","contractAddress":null,
         "logs":[{"address":"0x036cbd53842c5426634e7929541ec2318f3dcf7e",
                  "topics":["0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
                            "0x00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8",
                            "0x0000000000000000000000003c44cdddb6a900fa2b585dd299e03d12fa4293bc"],
                  "data":"0x00000000000000000000000000000000000000000000000000000000000f4240",
                  "blockNumber":"0x2a","transactionHash":"0x5e5b","logIndex":"0x0","removed":false}],
         "logsBloom":"0x00","status":"0x1","type":"0x2"}
        """

    @Test("a receipt with logs decodes completely")
    func receipt() throws {
        let receipt = try #require(try EthereumJSON.receipt(json(Self.receiptJSON)))
        #expect(receipt.succeeded)
        #expect(receipt.blockNumber == 42)
        #expect(receipt.gasUsed == 0xdbba)
        #expect(receipt.effectiveGasPrice == 1_000_000)
        #expect(receipt.from == (try EthereumAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")))
        #expect(receipt.to == (try EthereumAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e")))
        #expect(receipt.contractAddress == nil)
        #expect(receipt.blockHash == Bytes32(Array(repeating: 0x11, count: 32)))
        #expect(receipt.logs.count == 1)
        let log = try #require(receipt.logs.first)
        #expect(log.topics.first == Keccak256.hash(utf8: "Transfer(address,address,uint256)"))
        #expect(log.topics.count == 3)
        #expect(log.data == Bytes32(UInt256(1_000_000)).bytes)
    }

    @Test("receipt variants: null, failed, contract creation, no effectiveGasPrice; malformed ones are rejected")
    func receiptVariants() throws {
        #expect(try EthereumJSON.receipt(.null) == nil)
        var object = try #require(try json(Self.receiptJSON).objectValue)
        object["status"] = "0x0"
        object["to"] = nil
        object["contractAddress"] = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
        object["effectiveGasPrice"] = nil
        object["logs"] = []
        let created = try #require(try EthereumJSON.receipt(.object(object)))
        #expect(!created.succeeded)
        #expect(created.to == nil)
        #expect(created.contractAddress == (try EthereumAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")))
        #expect(created.effectiveGasPrice == nil)

        for (key, value) in [("status", JSONValue("0x2")), ("status", nil), ("blockNumber", "42"), ("logs", nil), ("gasUsed", nil)] {
            var broken = try #require(try json(Self.receiptJSON).objectValue)
            broken[key] = value
            #expect(throws: EthereumClientError.self, "\(key)") { try EthereumJSON.receipt(.object(broken)) }
        }
        #expect(throws: EthereumClientError.self) { try EthereumJSON.receipt("0x1") }
    }

    // MARK: Fee history

    @Test("fee history with and without rewards")
    func feeHistory() throws {
        let history = try EthereumJSON.feeHistory(
            json(
                """
                {"oldestBlock":"0x10","baseFeePerGas":["0xf4240","0xf4241","0xf4242"],"gasUsedRatio":[0,0.25],
                 "baseFeePerBlobGas":["0x1","0x1","0x1"],"blobGasUsedRatio":[0,0],
                 "reward":[["0x1","0x2"],["0x3","0x4"]]}
                """))
        #expect(history.oldestBlock == 16)
        #expect(history.baseFeePerGas == [1_000_000, 1_000_001, 1_000_002])
        #expect(history.gasUsedRatio == [0, 0.25])
        #expect(history.reward == [[1, 2], [3, 4]])

        let bare = try EthereumJSON.feeHistory(json(#"{"oldestBlock":"0x0","baseFeePerGas":["0x1"],"gasUsedRatio":[]}"#))
        #expect(bare.reward.isEmpty)
        #expect(throws: EthereumClientError.self) {
            try EthereumJSON.feeHistory(json(#"{"oldestBlock":"0x0","baseFeePerGas":["0x1"],"gasUsedRatio":["x"]}"#))
        }
        #expect(throws: EthereumClientError.self) { try EthereumJSON.feeHistory(json(#"{"baseFeePerGas":[],"gasUsedRatio":[]}"#)) }
    }

    @Test("error descriptions are short and carry no request details")
    func descriptions() {
        #expect(
            EthereumClientError.node(code: 3, message: "execution reverted", data: [1, 2]).description
                == "node error 3: execution reverted (data 0x0102)")
        #expect(EthereumClientError.timeout.description == "node request timed out")
    }
}
