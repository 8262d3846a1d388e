import Foundation
import Testing
import X402
import X402EVM

@testable import X402EVMRPC

/// ``JSONRPCClient/read(_:)``: independent reads travel in one HTTP request (a JSON-RPC batch).
@Suite("JSON-RPC batched reads")
struct ChainReadBatchTests {
    /// Answers every call of a batch (or a single call) by method.
    static func answering(
        _ answer: @escaping @Sendable (String, Int) -> String
    ) -> @Sendable (JSONRPCTestServer.Request, Int) -> JSONRPCTestServer.Behaviour {
        { request, _ in
            func one(_ call: JSONValue) -> String {
                let id = call["id"]?.intValue ?? 1
                return #"{"jsonrpc":"2.0","id":\#(id),\#(answer(call["method"]?.stringValue ?? "", id))}"#
            }
            guard let json = request.json else { return .respond(status: 400, body: "") }
            if let calls = json.arrayValue { return .respond(status: 200, body: "[" + calls.map(one).joined(separator: ",") + "]") }
            return .respond(status: 200, body: one(json))
        }
    }

    static let token = try! EthereumAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e")

    @Test("four reads are one HTTP request; each answer is decoded as its method's, a node error fails only its read")
    func oneRequest() async throws {
        let server = try JSONRPCTestServer(
            Self.answering { method, _ in
                switch method {
                case "eth_chainId": #""result":"0x14a34""#
                case "eth_getCode": #""result":"0x6080""#
                case "eth_getBalance": #""result":"0x2a""#
                default: #""error":{"code":3,"message":"execution reverted","data":"0x08c379a0"}"#
                }
            })
        defer { server.stop() }
        let client = JSONRPCClient(configuration: .init(url: server.url, maxRetries: 0))
        let answers = await client.read([
            .chainID, .code(Self.token, .latest), .balance(Self.token, .pending), .call(CallRequest(to: Self.token, data: [1, 2, 3, 4]), .latest),
        ])
        #expect(server.requestCount == 1)
        #expect(
            server.requests.first?.json?.arrayValue?.compactMap { $0["method"]?.stringValue } == [
                "eth_chainId", "eth_getCode", "eth_getBalance", "eth_call",
            ])
        #expect(try answers[0].get().uint64 == 84532)
        #expect(try answers[1].get().bytes == [0x60, 0x80])
        #expect(try answers[2].get().uint256 == UInt256(42))
        guard case .failure(.node(let code, _, let data)) = answers[3] else {
            Issue.record("expected the call's node error, got \(answers[3])")
            return
        }
        #expect(code == 3 && data == [0x08, 0xc3, 0x79, 0xa0])
    }

    @Test("a transport fault fails every read of the batch; a lone read is a plain single call")
    func faults() async throws {
        let down = try JSONRPCTestServer(script: [.closeWithoutAnswer])
        defer { down.stop() }
        let answers = await JSONRPCClient(configuration: .init(url: down.url, maxRetries: 0)).read([.chainID, .gasPrice])
        #expect(answers.count == 2)
        #expect(answers.allSatisfy { if case .failure(.transport) = $0 { true } else { false } })

        let single = try JSONRPCTestServer(Self.answering { _, _ in #""result":"0x5""# })
        defer { single.stop() }
        let one = await JSONRPCClient(configuration: .init(url: single.url)).read([.blockNumber])
        #expect(try one[0].get().uint64 == 5)
        #expect(single.requests.first?.json?.objectValue != nil)
    }

    @Test("a node that refuses batches is asked one call at a time")
    func noBatches() async throws {
        let server = try JSONRPCTestServer { request, _ in
            guard let method = request.method else {
                return .respond(
                    status: 200, body: #"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch requests are not supported"}}"#)
            }
            return .result(method == "eth_chainId" ? #""0x14a34""# : #""0x7""#)
        }
        defer { server.stop() }
        let answers = await JSONRPCClient(configuration: .init(url: server.url, maxRetries: 0)).read([.chainID, .blockNumber])
        #expect(try answers[0].get().uint64 == 84532)
        #expect(try answers[1].get().uint64 == 7)
        #expect(server.requestCount == 3)
    }

    @Test("a batch answer with a wrong or missing quantity fails that read with a typed error, never a trap")
    func hostileAnswers() async throws {
        let server = try JSONRPCTestServer(
            Self.answering { method, _ in
                method == "eth_chainId" ? #""result":"0x1ffffffffffffffffffff""# : #""result":"zz""#
            })
        defer { server.stop() }
        let answers = await JSONRPCClient(configuration: .init(url: server.url, maxRetries: 0)).read([.chainID, .gasPrice])
        #expect((try? answers[0].get())?.uint64 == nil)
        guard case .failure(.invalidResponse) = answers[1] else {
            Issue.record("expected invalidResponse, got \(answers[1])")
            return
        }
    }

    @Test("the fee oracle reads base fee and tip in one request")
    func feeOracle() async throws {
        let server = try JSONRPCTestServer(
            Self.answering { method, _ in
                switch method {
                case "eth_feeHistory": #""result":{"oldestBlock":"0x1","baseFeePerGas":["0x64","0x64"],"gasUsedRatio":[0.5]}"#
                case "eth_maxPriorityFeePerGas": #""result":"0x3b9aca00""#
                default: #""error":{"code":-32601,"message":"no"}"#
                }
            })
        defer { server.stop() }
        let oracle = FeeOracle(client: JSONRPCClient(configuration: .init(url: server.url)))
        let fees = try await oracle.fees()
        #expect(server.requestCount == 1)
        #expect(fees.maxPriorityFeePerGas == UInt256(1_000_000_000))
        #expect(fees.maxFeePerGas == UInt256(200) + UInt256(1_000_000_000))
    }
}
