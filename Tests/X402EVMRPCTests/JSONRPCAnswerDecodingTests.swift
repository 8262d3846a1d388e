import Testing
import X402
import X402EVM

@testable import X402EVMRPC

/// Decoding of JSON-RPC answers and the retry classification of methods (no network).
@Suite("JSON-RPC answer decoding")
struct JSONRPCAnswerDecodingTests {
    func json(_ text: String) throws -> JSONValue { try JSONValue(parsing: text) }

    // MARK: Responses and errors

    @Test("single answers: result, null result, error, id mismatch")
    func singleAnswers() throws {
        func decode(_ text: String) throws(EthereumClientError) -> JSONValue {
            try JSONRPCClient.decodeSingleResponse(Array(text.utf8), status: 200, expectedID: 1)
        }
        #expect(try decode(#"{"jsonrpc":"2.0","id":1,"result":"0x1"}"#) == "0x1")
        #expect(try decode(#"{"jsonrpc":"2.0","id":1,"result":null}"#).isNull)
        #expect(try decode(#"{"id":1,"result":{"a":1}}"#) == ["a": 1])
        #expect(throws: EthereumClientError.node(code: -32000, message: "boom", data: nil)) {
            try decode(#"{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"boom"}}"#)
        }
        // An error is reported even when the node could not read our id.
        #expect(throws: EthereumClientError.node(code: -32700, message: "parse error", data: nil)) {
            try decode(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}"#)
        }
        #expect(throws: EthereumClientError.self) { try decode(#"{"jsonrpc":"2.0","id":2,"result":"0x1"}"#) }
        #expect(throws: EthereumClientError.self) { try decode(#"{"jsonrpc":"2.0","id":1}"#) }
        #expect(throws: EthereumClientError.self) { try decode("not json") }
    }

    @Test(
        "error objects keep code, message and revert data in every shape nodes use",
        arguments: [
            (#"{"code":3,"message":"execution reverted: x","data":"0x08c379a0"}"#, 3, "execution reverted: x", [UInt8]?([0x08, 0xc3, 0x79, 0xa0])),
            (#"{"code":3,"message":"execution reverted","data":"0x"}"#, 3, "execution reverted", []),
            (
                #"{"code":-32000,"message":"execution reverted","data":{"message":"x","data":"0xdeadbeef"}}"#, -32000, "execution reverted",
                [0xde, 0xad, 0xbe, 0xef]
            ),
            (
                #"{"code":-32015,"message":"VM execution error.","data":"Reverted 0xdeadbeef"}"#, -32015, "VM execution error.",
                [0xde, 0xad, 0xbe, 0xef]
            ),
            (#"{"code":-32000,"message":"nonce too low","data":"some text"}"#, -32000, "nonce too low", nil),
            (#"{"code":-32000,"message":"m","data":{"reason":"no data member"}}"#, -32000, "m", nil),
            (#"{"code":-32000,"message":"m","data":12}"#, -32000, "m", nil),
            (#"{"code":-32601}"#, -32601, "", nil),
        ])
    func errorShapes(text: String, code: Int, message: String, data: [UInt8]?) throws {
        let error = try JSONRPCClient.nodeError(json(text))
        #expect(error == .node(code: code, message: message, data: data))
        #expect(error.revertData == data)
    }

    @Test("revert data decodes to the reason")
    func revertReason() throws {
        let data = try ABI.encodeCall("Error(string)", [.string("FiatTokenV2: invalid signature")])
        let error = try JSONRPCClient.nodeError(json(#"{"code":3,"message":"execution reverted","data":"\#(Hex.encode(data))"}"#))
        #expect(error.revertData.map { RevertReason(data: $0) } == .error("FiatTokenV2: invalid signature"))
    }

    @Test("an error object without an integer code is invalidResponse")
    func malformedErrors() throws {
        #expect(throws: EthereumClientError.self) { try JSONRPCClient.nodeError(json(#"{"message":"x"}"#)) }
        #expect(throws: EthereumClientError.self) { try JSONRPCClient.nodeError(json("[1]")) }
        #expect(try JSONRPCClient.nodeError("plain text error") == .node(code: 0, message: "plain text error", data: nil))
    }

    @Test("batch answers: order by id, duplicates and foreign ids rejected")
    func batchAnswers() throws {
        func decode(_ text: String, count: Int) throws(EthereumClientError) -> [Result<JSONValue, EthereumClientError>] {
            try JSONRPCClient.decodeBatchResponse(Array(text.utf8), status: 200, count: count)
        }
        let results = try decode(#"[{"id":2,"result":"b"},{"id":1,"result":"a"}]"#, count: 2)
        #expect(try results.map { try $0.get() } == ["a", "b"])
        #expect(throws: EthereumClientError.self) { try decode(#"[{"id":1,"result":"a"},{"id":1,"result":"a"}]"#, count: 2) }
        #expect(throws: EthereumClientError.self) { try decode(#"[{"id":9,"result":"a"}]"#, count: 2) }
        #expect(throws: EthereumClientError.self) { try decode(#"{"id":1,"result":"a"}"#, count: 1) }
        #expect(throws: EthereumClientError.self) { try decode(#"[1]"#, count: 1) }
        // An unmatched error (id null) is skipped; the calls it may concern report a missing answer.
        let partial = try decode(#"[{"id":null,"error":{"code":-32600,"message":"invalid request"}},{"id":1,"result":"a"}]"#, count: 2)
        #expect(try partial[0].get() == "a")
        guard case .failure(.invalidResponse) = partial[1] else {
            Issue.record("expected a missing answer, got \(partial[1])")
            return
        }
    }

    @Test("which methods are retried")
    func idempotency() {
        #expect(JSONRPCClient.idempotency(of: "eth_call") == .idempotent)
        #expect(JSONRPCClient.idempotency(of: "eth_getTransactionReceipt") == .idempotent)
        #expect(JSONRPCClient.idempotency(of: "eth_sendRawTransaction") == .rawTransaction)
        #expect(JSONRPCClient.idempotency(of: "eth_sendTransaction") == .notIdempotent)
        #expect(JSONRPCClient.idempotency(of: "devnet_mint") == .notIdempotent)
        #expect(JSONRPCClient.isAlreadyKnown("already known"))
        #expect(JSONRPCClient.isAlreadyKnown("Known transaction: 0xabc"))
        #expect(JSONRPCClient.isAlreadyKnown("AlreadyKnown"))
        #expect(!JSONRPCClient.isAlreadyKnown("nonce too low"))
        #expect(JSONRPCClient.isNonceTooLow("nonce too low: next nonce 5, tx nonce 4"))
        #expect(JSONRPCClient.isNonceTooLow("OldNonce"))
    }
}
