import Foundation
import Testing
import X402
import X402EVM

@testable import X402EVMRPC

/// Transport faults and retries of ``JSONRPCClient`` against a scripted local HTTP server.
@Suite("JSON-RPC client transport")
struct JSONRPCTransportTests {
    /// Fast retries and a short timeout so fault tests finish quickly.
    func client(_ server: JSONRPCTestServer, timeout: Duration = .seconds(5), maxRetries: Int = 2, path: String = "") -> JSONRPCClient {
        JSONRPCClient(
            configuration: .init(
                url: server.url + path, timeout: timeout, maxRetries: maxRetries, backoffBase: .milliseconds(5), maxBackoff: .milliseconds(20)
            ))
    }

    static let rawTransaction: [UInt8] = [0x02, 0xf8, 0x6b, 0x01, 0x02, 0x03]
    static var rawHash: String { Keccak256.hash(rawTransaction).hexString }

    @Test("a successful call sends a JSON-RPC 2.0 POST with the configured headers")
    func requestShape() async throws {
        let server = try JSONRPCTestServer(script: [.result(#""0x14a34""#)])
        defer { server.stop() }
        let client = JSONRPCClient(configuration: .init(url: server.url, headers: [("Authorization", "Bearer s3cret"), ("X-Extra", "1")]))
        #expect(try await client.chainID() == 84532)
        let request = try #require(server.requests.first)
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["authorization"] == "Bearer s3cret")
        #expect(request.headers["x-extra"] == "1")
        #expect(request.json == ["jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []])
    }

    @Test("every protocol method encodes its parameters as nodes expect")
    func parameterEncoding() async throws {
        let server = try JSONRPCTestServer { request, _ in
            switch request.method {
            case "eth_getTransactionReceipt": .result("null")
            case "eth_feeHistory": .result(#"{"oldestBlock":"0x1","baseFeePerGas":["0x1","0x2"],"gasUsedRatio":[0.5]}"#)
            case "eth_sendRawTransaction": .result("\"\(Self.rawHash)\"")
            default: .result(#""0x01""#)
            }
        }
        defer { server.stop() }
        let client = client(server)
        let account = try EthereumAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
        let token = try EthereumAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e")
        let hash = Bytes32.random()
        _ = try await client.blockNumber()
        _ = try await client.transactionCount(of: account, at: .pending)
        _ = try await client.balance(of: account, at: .number(0x1b4))
        _ = try await client.code(at: token, at: .earliest)
        _ = try await client.call(CallRequest(from: account, to: token, data: [0x06, 0xfd, 0xde, 0x03], value: 10, gas: 100_000), at: .latest)
        _ = try await client.estimateGas(CallRequest(to: token, data: []))
        _ = try await client.sendRawTransaction(Self.rawTransaction)
        _ = try await client.transactionReceipt(hash)
        _ = try await client.gasPrice()
        _ = try await client.maxPriorityFeePerGas()
        _ = try await client.feeHistory(blockCount: 4, newestBlock: .latest, rewardPercentiles: [25, 50.5])

        let sent = server.requests.map { ($0.method ?? "?", JSONValue.array($0.params)) }
        let expected: [(String, JSONValue)] = [
            ("eth_blockNumber", []),
            ("eth_getTransactionCount", ["0x70997970c51812dc3a010c7d01b50e0d17dc79c8", "pending"]),
            ("eth_getBalance", ["0x70997970c51812dc3a010c7d01b50e0d17dc79c8", "0x1b4"]),
            ("eth_getCode", ["0x036cbd53842c5426634e7929541ec2318f3dcf7e", "earliest"]),
            (
                "eth_call",
                [
                    [
                        "from": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", "to": "0x036cbd53842c5426634e7929541ec2318f3dcf7e",
                        "gas": "0x186a0", "value": "0xa", "data": "0x06fdde03",
                    ],
                    "latest",
                ]
            ),
            ("eth_estimateGas", [["to": "0x036cbd53842c5426634e7929541ec2318f3dcf7e", "data": "0x"]]),
            ("eth_sendRawTransaction", [.string(Hex.encode(Self.rawTransaction))]),
            ("eth_getTransactionReceipt", [.string(hash.hexString)]),
            ("eth_gasPrice", []),
            ("eth_maxPriorityFeePerGas", []),
            ("eth_feeHistory", ["0x4", "latest", [25, .number(JSONNumber(literal: "50.5")!)]]),
        ]
        #expect(sent.count == expected.count)
        for (actual, wanted) in zip(sent, expected) {
            #expect(actual.0 == wanted.0)
            #expect(actual.1 == wanted.1, "\(actual.0)")
        }
    }

    @Test("a JSON-RPC error is a typed node error and is never retried")
    func nodeErrorNotRetried() async throws {
        let server = try JSONRPCTestServer(script: [.error(code: 3, message: "execution reverted: nope", data: #""0x08c379a0""#)])
        defer { server.stop() }
        let error = await #expect(throws: EthereumClientError.self) {
            _ = try await client(server).call(CallRequest(to: .zero, data: []), at: .latest)
        }
        #expect(error == .node(code: 3, message: "execution reverted: nope", data: [0x08, 0xc3, 0x79, 0xa0]))
        #expect(server.requestCount == 1)
    }

    @Test("HTTP 500 is reported with its status and body and not retried")
    func http500() async throws {
        let server = try JSONRPCTestServer(script: [.respond(status: 500, body: "internal trouble")])
        defer { server.stop() }
        let error = await #expect(throws: EthereumClientError.self) { _ = try await client(server).blockNumber() }
        #expect(error == .httpStatus(500, body: "internal trouble"))
        #expect(server.requestCount == 1)
    }

    @Test("a JSON-RPC error sent with a non-2xx status keeps the node's error")
    func errorBodyWithBadStatus() async throws {
        let server = try JSONRPCTestServer(script: [
            .respond(status: 400, body: #"{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"invalid argument 0"}}"#)
        ])
        defer { server.stop() }
        let error = await #expect(throws: EthereumClientError.self) { _ = try await client(server).blockNumber() }
        #expect(error == .node(code: -32602, message: "invalid argument 0", data: nil))
        #expect(server.requestCount == 1)
    }

    @Test("gateway statuses (502/503/504/429) are retried up to maxRetries, then reported")
    func gatewayStatusRetried() async throws {
        let server = try JSONRPCTestServer(script: [.respond(status: 503, body: "busy")])
        defer { server.stop() }
        let error = await #expect(throws: EthereumClientError.self) { _ = try await client(server, maxRetries: 2).blockNumber() }
        #expect(error == .httpStatus(503, body: "busy"))
        #expect(server.requestCount == 3)

        let recovering = try JSONRPCTestServer(script: [.respond(status: 429, body: ""), .respond(status: 502, body: ""), .result(#""0x10""#)])
        defer { recovering.stop() }
        #expect(try await client(recovering, maxRetries: 2).blockNumber() == 16)
        #expect(recovering.requestCount == 3)
    }

    @Test("a connection closed without an answer is a transport error, retried for reads")
    func closedConnection() async throws {
        let server = try JSONRPCTestServer(script: [.closeWithoutAnswer])
        defer { server.stop() }
        let error = await #expect(throws: EthereumClientError.self) { _ = try await client(server, maxRetries: 3).blockNumber() }
        guard case .transport = error else {
            Issue.record("expected a transport error, got \(String(describing: error))")
            return
        }
        #expect(server.requestCount == 4)

        let recovering = try JSONRPCTestServer(script: [.closeWithoutAnswer, .result(#""0x2a""#)])
        defer { recovering.stop() }
        #expect(try await client(recovering).blockNumber() == 42)
        #expect(recovering.requestCount == 2)
    }

    @Test("maxRetries 0 makes exactly one attempt")
    func noRetries() async throws {
        let server = try JSONRPCTestServer(script: [.closeWithoutAnswer])
        defer { server.stop() }
        await #expect(throws: EthereumClientError.self) { _ = try await client(server, maxRetries: 0).blockNumber() }
        #expect(server.requestCount == 1)
    }

    @Test("no answer within the timeout is .timeout, retried for reads")
    func slowAnswer() async throws {
        let server = try JSONRPCTestServer(script: [.hang])
        defer { server.stop() }
        let error = await #expect(throws: EthereumClientError.self) {
            _ = try await client(server, timeout: .seconds(2), maxRetries: 1).chainID()
        }
        #expect(error == .timeout)
        #expect(server.requestCount == 2)

        let recovering = try JSONRPCTestServer(script: [.hang, .result(#""0x1""#)])
        defer { recovering.stop() }
        #expect(try await client(recovering, timeout: .seconds(2), maxRetries: 3).chainID() == 1)
        #expect(recovering.requestCount >= 2)
    }

    @Test("a body that stalls after the head is .timeout")
    func stalledBody() async throws {
        // A stall far longer than the timeout, so that a loaded machine cannot see the body end first.
        let server = try JSONRPCTestServer(script: [.stallAfterHeaders(seconds: 60)])
        defer { server.stop() }
        let error = await #expect(throws: EthereumClientError.self) {
            _ = try await client(server, timeout: .seconds(1), maxRetries: 0).chainID()
        }
        #expect(error == .timeout)
        #expect(server.requestCount == 1)
    }

    @Test("bytes that are not HTTP are a transport error, retried")
    func garbageHTTP() async throws {
        let server = try JSONRPCTestServer(script: [.raw("SSH-2.0-OpenSSH_9.2\r\n\r\n"), .result(#""0x7""#)])
        defer { server.stop() }
        #expect(try await client(server).blockNumber() == 7)
        #expect(server.requestCount == 2)

        let broken = try JSONRPCTestServer(script: [.raw("\u{0}\u{1}garbage\r\n\r\n")])
        defer { broken.stop() }
        let error = await #expect(throws: EthereumClientError.self) { _ = try await client(broken, maxRetries: 1).blockNumber() }
        guard case .transport = error else {
            Issue.record("expected a transport error, got \(String(describing: error))")
            return
        }
        #expect(broken.requestCount == 2)
    }

    @Test("a 200 answer that is not JSON-RPC is .invalidResponse and not retried")
    func invalidBodies() async throws {
        for body in ["<html>oops</html>", "[]", #"{"jsonrpc":"2.0","id":1}"#, #"{"jsonrpc":"2.0","id":7,"result":"0x1"}"#, #""0x1""#] {
            let server = try JSONRPCTestServer(script: [.respond(status: 200, body: body)])
            defer { server.stop() }
            let error = await #expect(throws: EthereumClientError.self, "\(body)") { _ = try await client(server).blockNumber() }
            guard case .invalidResponse = error else {
                Issue.record("expected invalidResponse for \(body), got \(String(describing: error))")
                continue
            }
            #expect(server.requestCount == 1)
        }
    }

    @Test("answers larger than maxResponseBytes are rejected")
    func oversizedAnswer() async throws {
        let big = String(repeating: "ab", count: 4096)
        let server = try JSONRPCTestServer(script: [.result("\"0x\(big)\"")])
        defer { server.stop() }
        let small = JSONRPCClient(configuration: .init(url: server.url, maxRetries: 2, maxResponseBytes: 1024))
        let error = await #expect(throws: EthereumClientError.self) { _ = try await small.code(at: .zero, at: .latest) }
        guard case .invalidResponse = error else {
            Issue.record("expected invalidResponse, got \(String(describing: error))")
            return
        }
        #expect(server.requestCount == 1)
        let large = JSONRPCClient(configuration: .init(url: server.url, maxResponseBytes: 1 << 20))
        #expect(try await large.code(at: .zero, at: .latest).count == 4096)
    }

    @Test("connection refused is a transport error or timeout")
    func connectionRefused() async throws {
        let port = try JSONRPCTestServer.unusedPort()
        let client = JSONRPCClient(
            configuration: .init(
                url: "http://127.0.0.1:\(port)/key-in-path", timeout: .milliseconds(500), maxRetries: 1, backoffBase: .milliseconds(5),
                headers: [("Authorization", "Bearer top-secret")]
            ))
        let error = await #expect(throws: EthereumClientError.self) { _ = try await client.chainID() }
        switch error {
        case .transport, .timeout: break
        default: Issue.record("expected transport or timeout, got \(String(describing: error))")
        }
        let text = error.map { "\($0)" } ?? ""
        #expect(!text.contains("key-in-path"))
        #expect(!text.contains("top-secret"))
    }

    @Test("the retry rule: transient faults only; writes only when the node cannot have seen the request")
    func retryRule() {
        func fault(transient: Bool, reached: Bool) -> JSONRPCClient.Fault {
            JSONRPCClient.Fault(error: .timeout, isTransient: transient, mayHaveReachedNode: reached)
        }
        for idempotency in [JSONRPCClient.Idempotency.idempotent, .rawTransaction] {
            #expect(JSONRPCClient.shouldRetry(fault(transient: true, reached: true), idempotency))
            #expect(JSONRPCClient.shouldRetry(fault(transient: true, reached: false), idempotency))
            #expect(!JSONRPCClient.shouldRetry(fault(transient: false, reached: false), idempotency))
        }
        #expect(JSONRPCClient.shouldRetry(fault(transient: true, reached: false), .notIdempotent))
        #expect(!JSONRPCClient.shouldRetry(fault(transient: true, reached: true), .notIdempotent))
        #expect(!JSONRPCClient.shouldRetry(fault(transient: false, reached: false), .notIdempotent))
        #expect(!JSONRPCClient.classify(CancellationError(), url: "http://127.0.0.1/").isTransient)
    }

    @Test("a refused connection is a transport error saying so, and counts as never delivered")
    func refusedConnection() async throws {
        let port = try JSONRPCTestServer.unusedPort()
        let client = JSONRPCClient(
            configuration: .init(
                url: "http://127.0.0.1:\(port)/", timeout: .seconds(1), maxRetries: 0, backoffBase: .milliseconds(5)
            ))
        let error = await #expect(throws: EthereumClientError.self) {
            _ = try await client.request(method: "devnet_mint", params: ["0x00", "1"])
        }
        // The shared HTTPClient keeps retrying the connection until the timeout, then reports the refusal
        // (or, if its own deadline wins that race, a timeout).
        #expect(error == .transport("could not connect to the node: connection refused") || error == .timeout)
    }

    @Test("an invalid URL fails without retrying")
    func invalidURL() async throws {
        let client = JSONRPCClient(url: "not a url")
        let error = await #expect(throws: EthereumClientError.self) { _ = try await client.chainID() }
        #expect(error == .transport("invalid node URL"))
    }

    @Test("a URL scheme AsyncHTTPClient cannot speak is an invalid node URL, not retried")
    func unsupportedScheme() async throws {
        for url in ["ftp://127.0.0.1:1/", "FTP://127.0.0.1:1/"] {
            let client = JSONRPCClient(configuration: .init(url: url, maxRetries: 3, backoffBase: .milliseconds(1)))
            let error = await #expect(throws: EthereumClientError.self) { _ = try await client.chainID() }
            #expect(error == .transport("invalid node URL"))
        }
    }

    // MARK: Writes

    @Test("a non-idempotent method is not retried after the request may have reached the node")
    func writesNotRetried() async throws {
        let server = try JSONRPCTestServer(script: [.closeWithoutAnswer, .result("true")])
        defer { server.stop() }
        await #expect(throws: EthereumClientError.self) {
            _ = try await client(server).request(method: "devnet_mint", params: ["0x00", "1"])
        }
        #expect(server.requestCount == 1)
        // …but an explicitly idempotent one is.
        let again = try JSONRPCTestServer(script: [.closeWithoutAnswer, .result("true")])
        defer { again.stop() }
        #expect(try await client(again).request(method: "custom_read", idempotency: .idempotent) == true)
        #expect(again.requestCount == 2)
    }

    @Test("eth_sendRawTransaction returns the local hash; a different hash from the node is rejected")
    func sendRawHash() async throws {
        let server = try JSONRPCTestServer(script: [.result("\"\(Self.rawHash)\""), .result("\"\(Bytes32.zero.hexString)\"")])
        defer { server.stop() }
        let client = client(server)
        #expect(try await client.sendRawTransaction(Self.rawTransaction).hexString == Self.rawHash)
        let error = await #expect(throws: EthereumClientError.self) { _ = try await client.sendRawTransaction(Self.rawTransaction) }
        guard case .invalidResponse = error else {
            Issue.record("expected invalidResponse, got \(String(describing: error))")
            return
        }
    }

    @Test("eth_sendRawTransaction: 'already known' after a lost answer is success")
    func sendRawAlreadyKnownAfterRetry() async throws {
        let server = try JSONRPCTestServer(script: [.closeWithoutAnswer, .error(code: -32000, message: "already known")])
        defer { server.stop() }
        #expect(try await client(server).sendRawTransaction(Self.rawTransaction).hexString == Self.rawHash)
        #expect(server.requestCount == 2)
        #expect(server.requests.allSatisfy { $0.method == "eth_sendRawTransaction" })
        #expect(Set(server.requests.map(\.body)).count == 1)  // the very same bytes each time
    }

    @Test("eth_sendRawTransaction: 'already known' on the first attempt means the node holds these bytes: success")
    func sendRawAlreadyKnown() async throws {
        let server = try JSONRPCTestServer(script: [.error(code: -32000, message: "ALREADY_EXISTS: already known")])
        defer { server.stop() }
        #expect(try await client(server).sendRawTransaction(Self.rawTransaction).hexString == Self.rawHash)
        #expect(server.requestCount == 1)
    }

    @Test("eth_sendRawTransaction: 'nonce too low' after a lost answer is success only if the node knows the hash")
    func sendRawNonceTooLowAfterRetry() async throws {
        let known = try JSONRPCTestServer { request, index in
            switch (index, request.method) {
            case (0, _): .hang
            case (_, "eth_sendRawTransaction"): .error(code: -32000, message: "nonce too low: next nonce 5, tx nonce 4")
            default: .result(#"{"hash":"\#(Self.rawHash)","nonce":"0x4"}"#)
            }
        }
        defer { known.stop() }
        let hash = try await client(known, timeout: .seconds(2)).sendRawTransaction(Self.rawTransaction)
        #expect(hash.hexString == Self.rawHash)
        #expect(known.requests.map(\.method) == ["eth_sendRawTransaction", "eth_sendRawTransaction", "eth_getTransactionByHash"])
        #expect(known.requests.last?.params == [.string(Self.rawHash)])

        let unknown = try JSONRPCTestServer { request, index in
            switch (index, request.method) {
            case (0, _): .closeWithoutAnswer
            case (_, "eth_sendRawTransaction"): .error(code: -32000, message: "nonce too low: next nonce 5, tx nonce 4")
            default: .result("null")
            }
        }
        defer { unknown.stop() }
        let error = await #expect(throws: EthereumClientError.self) { _ = try await client(unknown).sendRawTransaction(Self.rawTransaction) }
        #expect(error == .node(code: -32000, message: "nonce too low: next nonce 5, tx nonce 4", data: nil))
        #expect(unknown.requestCount == 3)
    }

    @Test("eth_sendRawTransaction: 'nonce too low' on a first attempt is success only if the node knows the hash")
    func sendRawNonceTooLow() async throws {
        let taken = try JSONRPCTestServer { request, _ in
            request.method == "eth_sendRawTransaction" ? .error(code: -32000, message: "nonce too low") : .result("null")
        }
        defer { taken.stop() }
        let error = await #expect(throws: EthereumClientError.self) { _ = try await client(taken).sendRawTransaction(Self.rawTransaction) }
        #expect(error == .node(code: -32000, message: "nonce too low", data: nil))
        #expect(taken.requests.map(\.method) == ["eth_sendRawTransaction", "eth_getTransactionByHash"])

        // Sent before (e.g. by a process that crashed before recording it): the node knows the hash.
        let mined = try JSONRPCTestServer { request, _ in
            request.method == "eth_sendRawTransaction"
                ? .error(code: -32000, message: "nonce too low: next nonce 5, tx nonce 4")
                : .result(#"{"hash":"\#(Self.rawHash)","blockNumber":"0x10"}"#)
        }
        defer { mined.stop() }
        #expect(try await client(mined).sendRawTransaction(Self.rawTransaction).hexString == Self.rawHash)
        #expect(mined.requestCount == 2)

        // A lookup that fails leaves the node's original answer.
        let failing = try JSONRPCTestServer { request, _ in
            request.method == "eth_sendRawTransaction" ? .error(code: -32000, message: "nonce too low") : .respond(status: 500, body: "")
        }
        defer { failing.stop() }
        let original = await #expect(throws: EthereumClientError.self) { _ = try await client(failing).sendRawTransaction(Self.rawTransaction) }
        #expect(original == .node(code: -32000, message: "nonce too low", data: nil))
    }

    // MARK: Batches

    @Test("batch: results matched by id whatever the answer order; missing answers are per-call errors")
    func batchMatching() async throws {
        let server = try JSONRPCTestServer(script: [
            .respond(
                status: 200,
                body: """
                    [{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"method not found"}},
                     {"jsonrpc":"2.0","id":1,"result":"0x14a34"},
                     {"jsonrpc":"2.0","id":2,"result":null}]
                    """)
        ])
        defer { server.stop() }
        let results = try await client(server).batch([
            RPCCall("eth_chainId"), RPCCall("eth_getTransactionReceipt", ["0x00"]), RPCCall("nope"), RPCCall("eth_blockNumber"),
        ])
        #expect(results.count == 4)
        #expect(try results[0].get() == "0x14a34")
        #expect(try results[1].get().isNull)
        #expect(throws: EthereumClientError.node(code: -32601, message: "method not found", data: nil)) { try results[2].get() }
        guard case .failure(.invalidResponse) = results[3] else {
            Issue.record("expected a missing-answer error, got \(results[3])")
            return
        }
        let sent = try #require(server.requests.first?.json?.arrayValue)
        #expect(sent.map { $0["id"] } == [1, 2, 3, 4])
        #expect(sent.map { $0["method"] } == ["eth_chainId", "eth_getTransactionReceipt", "nope", "eth_blockNumber"])
    }

    @Test("batch: a node rejecting the whole batch throws its error; reads are retried together")
    func batchErrors() async throws {
        let rejecting = try JSONRPCTestServer(script: [
            .respond(status: 200, body: #"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch too large"}}"#)
        ])
        defer { rejecting.stop() }
        let error = await #expect(throws: EthereumClientError.self) { _ = try await client(rejecting).batch([RPCCall("eth_chainId")]) }
        #expect(error == .node(code: -32600, message: "batch too large", data: nil))

        let flaky = try JSONRPCTestServer(script: [
            .closeWithoutAnswer, .respond(status: 200, body: #"[{"jsonrpc":"2.0","id":1,"result":"0x1"}]"#),
        ])
        defer { flaky.stop() }
        #expect(try await client(flaky).batch([RPCCall("eth_chainId")]).count == 1)
        #expect(flaky.requestCount == 2)

        let withWrite = try JSONRPCTestServer(script: [.closeWithoutAnswer])
        defer { withWrite.stop() }
        await #expect(throws: EthereumClientError.self) {
            _ = try await client(withWrite).batch([RPCCall("eth_chainId"), RPCCall("eth_sendRawTransaction", ["0x02"])])
        }
        #expect(withWrite.requestCount == 1)
    }

    @Test("backoff doubles from the base, is capped, and has jitter within 50–100 %")
    func backoffSchedule() {
        let client = JSONRPCClient(configuration: .init(url: "http://127.0.0.1:1/", backoffBase: .milliseconds(100), maxBackoff: .milliseconds(350)))
        for _ in 0..<50 {
            let first = client.backoff(beforeRetry: 1)
            #expect(first >= .milliseconds(50) && first <= .milliseconds(100))
            let second = client.backoff(beforeRetry: 2)
            #expect(second >= .milliseconds(100) && second <= .milliseconds(200))
            let capped = client.backoff(beforeRetry: 30)
            #expect(capped >= .milliseconds(175) && capped <= .milliseconds(350))
        }
    }
}
