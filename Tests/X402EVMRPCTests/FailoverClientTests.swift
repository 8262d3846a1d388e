import Foundation
import Testing
import X402
import X402EVM

@testable import X402EVMRPC

/// ``FailoverEthereumClient`` against local HTTP servers that answer, hang, or lie.
@Suite("JSON-RPC failover between nodes")
struct FailoverClientTests {
    /// A node of `chainID` answering every method (`eth_blockNumber` answers `block`).
    static func node(chainID: UInt64, block: UInt64 = 7) throws -> JSONRPCTestServer {
        try JSONRPCTestServer(
            ChainReadBatchTests.answering { method, _ in
                switch method {
                case "eth_chainId": #""result":"0x\#(String(chainID, radix: 16))""#
                case "eth_call": #""error":{"code":3,"message":"execution reverted: no","data":"0x"}"#
                default: #""result":"0x\#(String(block, radix: 16))""#
                }
            })
    }

    static func client(_ servers: [JSONRPCTestServer], timeout: Duration = .seconds(5), outFor: Duration = .seconds(60)) -> FailoverEthereumClient {
        FailoverEthereumClient(
            urls: servers.map(\.url),
            configuration: .init(url: "", timeout: timeout, maxRetries: 0, backoffBase: .milliseconds(5)),
            options: .init(expectedChainID: 84532, outOfServiceFor: outFor))
    }

    static func isOut(_ health: FailoverEthereumClient.Health) -> Bool {
        if case .outOfService = health { return true }
        return false
    }

    @Test("a node that hangs is taken out after its timeout and the request is answered by the next")
    func hangingNode() async throws {
        let hanging = try JSONRPCTestServer { _, _ in .hang }
        let good = try Self.node(chainID: 84532, block: 9)
        defer {
            hanging.stop()
            good.stop()
        }
        let client = Self.client([hanging, good], timeout: .milliseconds(300))
        #expect(try await client.blockNumber() == 9)
        #expect(Self.isOut(client.standings[0]))
        #expect(client.standings[1] == .inService)
        // While it is out, requests go straight to the good node.
        let before = hanging.requestCount
        #expect(try await client.blockNumber() == 9)
        #expect(hanging.requestCount == before)
    }

    @Test("a node on another chain is never used; a node that comes right is admitted after a fresh check")
    func lyingNode() async throws {
        let lying = try Self.node(chainID: 1, block: 1)
        let good = try Self.node(chainID: 84532, block: 2)
        defer {
            lying.stop()
            good.stop()
        }
        let client = Self.client([lying, good])
        #expect(try await client.blockNumber() == 2)
        #expect(lying.requests.compactMap(\.method) == ["eth_chainId"])
        guard case .outOfService(_, let reason) = client.standings[0] else {
            Issue.record("the lying node stayed in service")
            return
        }
        #expect(reason.contains("chain id 1"))
        #expect(!reason.contains("127.0.0.1"))
    }

    @Test("a node taken out is checked again once its time is up, and serves again when it answers right")
    func recheck() async throws {
        let flaky = try JSONRPCTestServer { request, index in
            // The first two requests fail; later ones are a healthy node of the right chain.
            if index < 2 { return .respond(status: 503, body: "overloaded") }
            let reply = request.method == "eth_chainId" ? #""0x14a34""# : #""0xb""#
            return .result(reply)
        }
        let good = try Self.node(chainID: 84532, block: 3)
        defer {
            flaky.stop()
            good.stop()
        }
        let client = Self.client([flaky, good], outFor: .zero)
        #expect(try await client.blockNumber() == 3)  // flaky's chain id check fails (503)
        #expect(Self.isOut(client.standings[0]))
        #expect(try await client.blockNumber() == 3)  // checked again at once (outFor 0): 503 again
        #expect(try await client.blockNumber() == 11)  // third check passes; flaky serves again
        #expect(client.standings[0] == .inService)
        #expect(flaky.requests.compactMap(\.method) == ["eth_chainId", "eth_chainId", "eth_chainId", "eth_blockNumber"])
    }

    @Test("a node's JSON-RPC error is an answer: no failover, the node stays in service")
    func nodeErrorIsAnAnswer() async throws {
        let first = try Self.node(chainID: 84532)
        let second = try Self.node(chainID: 84532)
        defer {
            first.stop()
            second.stop()
        }
        let client = Self.client([first, second])
        await #expect(throws: EthereumClientError.self) {
            try await client.call(CallRequest(to: .zero, data: []), at: .latest)
        }
        #expect(client.standings[0] == .inService)
        #expect(second.requestCount == 0)
    }

    @Test("when every node fails the last fault is reported; batched reads fail over as one")
    func allDown() async throws {
        let a = try JSONRPCTestServer { _, _ in .closeWithoutAnswer }
        let b = try JSONRPCTestServer { _, _ in .respond(status: 502, body: "bad gateway") }
        defer {
            a.stop()
            b.stop()
        }
        let client = Self.client([a, b])
        await #expect(throws: EthereumClientError.self) { try await client.blockNumber() }
        #expect(client.standings.allSatisfy(Self.isOut))

        let hanging = try JSONRPCTestServer { _, _ in .hang }
        let good = try Self.node(chainID: 84532, block: 4)
        defer {
            hanging.stop()
            good.stop()
        }
        let reads = await Self.client([hanging, good], timeout: .milliseconds(300)).read([.blockNumber, .gasPrice])
        #expect(try reads[0].get().uint64 == 4)
        #expect(try reads[1].get().uint256 == UInt256(4))
    }
}
