import Testing
import X402
import X402EVM
import X402EVMRPC

/// JSON-RPC answers with hostile numbers, decoded through the fuzzing entry points (``JSONRPCAnswer``).
@Suite("JSON-RPC answers refuse hostile input with typed errors")
struct JSONRPCAnswerHardeningTests {
    @Test("hostile numbers in JSON-RPC ids and error codes are typed errors (were traps)")
    func hostileJSONRPCNumbers() throws {
        for literal in ["1e9223372036854775807", "10e9223372036854775807", "0.1e-9223372036854775808"] {
            let single = Array(#"{"jsonrpc":"2.0","id":\#(literal),"result":"0x1"}"#.utf8)
            #expect(throws: EthereumClientError.self) { _ = try JSONRPCAnswer.single(single, expectedID: 1) }
            let code = Array(#"{"jsonrpc":"2.0","id":1,"error":{"code":\#(literal),"message":"x"}}"#.utf8)
            #expect(throws: EthereumClientError.self) { _ = try JSONRPCAnswer.single(code, expectedID: 1) }
            #expect(JSONRPCAnswer.nodeError(inBody: code) == nil)
            let batch = Array(#"[{"jsonrpc":"2.0","id":\#(literal),"result":"0x1"}]"#.utf8)
            #expect(throws: EthereumClientError.self) { _ = try JSONRPCAnswer.batch(batch, count: 1) }
        }
        // Integral ids written oddly still match; an id beyond the batch is refused.
        #expect(try JSONRPCAnswer.single(Array(#"{"id":1.0e0,"result":"0x2"}"#.utf8), expectedID: 1) == "0x2")
        #expect(throws: EthereumClientError.self) {
            _ = try JSONRPCAnswer.batch(Array(#"[{"id":9223372036854775807,"result":"0x1"}]"#.utf8), count: 1)
        }
        // A batch decoder asked for zero calls refuses any answer instead of building `1...0` (a trap).
        #expect(throws: EthereumClientError.self) { _ = try JSONRPCAnswer.batch(Array(#"[{"id":1,"result":"0x1"}]"#.utf8), count: 0) }
    }
}
