// `x402-loadbench settle`: N real settlements on the devnet through a facilitator's `/settle`,
// single transactions or batched. Payloads are signed before the clock starts, each for a payee
// of this run; every answer must be `success: true`, and the payee's balance must end exactly N
// times the amount.
//
//     x402-loadbench settle --devnet-state .devnet-run/NAME/devnet.json [--payments 500] [--concurrency 64]
//         [--batch] [--batch-window-ms 50] [--max-batch 32] [--facilitator-url URL] [--label TEXT]
//
// Without --facilitator-url the Swift facilitator (FacilitatorService, memory database, abuse
// limits off; batched settlement with --batch) runs in this process; with it, any facilitator
// (for example the Python SDK's, Tools/interop/py_facilitator.py) is measured with the same client
// and payloads. Reported: settlements per second, latency percentiles, the transactions sent, the
// gas of their receipts per settlement, and the node calls per settlement (the devnet's counters).

import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import X402
import X402EVM
import X402Facilitator

struct SettleBenchmarkOptions {
    var statePath: String?
    var facilitatorURL: String?
    var payments = 500
    var concurrency = 64
    var batch = false
    var batchWindowMilliseconds = 50
    var maximumBatch = 32
    var label: String?

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let next = rest.popFirst() else { throw BenchmarkUsage("\(flag) needs a value") }
            return next
        }
        func count(_ flag: String, minimum: Int) throws -> Int {
            let text = try value(flag)
            guard let number = Int(text), number >= minimum else { throw BenchmarkUsage("\(flag) must be an integer >= \(minimum)") }
            return number
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--devnet-state": statePath = try value(flag)
            case "--facilitator-url": facilitatorURL = try value(flag)
            case "--payments": payments = try count(flag, minimum: 1)
            case "--concurrency": concurrency = try count(flag, minimum: 1)
            case "--batch": batch = true
            case "--batch-window-ms": batchWindowMilliseconds = try count(flag, minimum: 0)
            case "--max-batch": maximumBatch = try count(flag, minimum: 1)
            case "--label": label = try value(flag)
            default: throw BenchmarkUsage("unknown option \(flag)")
            }
        }
        guard statePath != nil else { throw BenchmarkUsage("--devnet-state PATH (the devnet's devnet.json) is required") }
    }
}

func runSettleBenchmark(_ arguments: [String]) async throws {
    let options: SettleBenchmarkOptions
    do {
        options = try SettleBenchmarkOptions(arguments)
    } catch {
        FileHandle.standardError.write(Data("x402-loadbench settle: \(error)\n".utf8))
        exit(64)
    }
    let state = try DevnetState(path: options.statePath!)

    // 1. Sign the payloads (not timed): a payee of this run only, distinct nonces, spread over the payers.
    let payee = PrivateKey.random().address.checksummed
    let amount: UInt64 = 10_000
    let requirements = PaymentRequirements(
        scheme: "exact", network: state.network, amount: String(amount), asset: state.token, payTo: payee, maxTimeoutSeconds: 3600,
        extra: ["name": "USDC", "version": "2"])
    var bodies: [ByteBuffer] = []
    for index in 0..<options.payments {
        let key = state.payerKeys[index % state.payerKeys.count]
        let signed = try await ExactEVMClient(signer: key).createPayload(for: requirements, context: PaymentContext(version: .v2))
        let payload = PaymentPayload(resource: ResourceInfo(url: "http://127.0.0.1:9/bench"), accepted: requirements, payload: signed.payload)
        let request = FacilitatorRequest(paymentPayload: .v2(payload), paymentRequirements: .v2(requirements))
        bodies.append(ByteBuffer(bytes: request.jsonBytes()))
    }

    // 2. The facilitator: given, or this process's.
    var server: Task<Void, any Error>?
    let baseURL: String
    if let url = options.facilitatorURL {
        baseURL = url
    } else {
        var configuration = BenchFacilitator.configuration(state)
        configuration.receiptTimeoutSeconds = 120
        configuration.batchSettlements = options.batch
        configuration.settlementBatchWindowMilliseconds = options.batchWindowMilliseconds
        configuration.maxSettlementBatch = options.maximumBatch
        let running = await BenchFacilitator.runInProcess(try await BenchFacilitator.service(configuration, state: state))
        server = running.server
        baseURL = running.baseURL
    }

    var clientConfiguration = HTTPClient.Configuration()
    clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = options.concurrency
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
    let settleURL = baseURL + "/settle"

    @Sendable func settle(_ body: ByteBuffer) async -> (Duration, String?, String?) {
        var request = HTTPClientRequest(url: settleURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(body)
        let started = ContinuousClock.now
        do {
            let response = try await client.execute(request, timeout: .seconds(300))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            let elapsed = ContinuousClock.now - started
            let json = try JSONValue(parsing: bytes.readableBytesView)
            if response.status.code == 200, json["success"] == true, let hash = json["transaction"]?.stringValue {
                return (elapsed, hash, nil)
            }
            return (elapsed, nil, "HTTP \(response.status.code) \(json)")
        } catch {
            return (ContinuousClock.now - started, nil, "\(error)")
        }
    }

    @Sendable func rpc(_ method: String, _ params: String) async -> JSONValue? {
        var request = HTTPClientRequest(url: state.rpcURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"method":"\#(method)","params":\#(params)}"#))
        guard let response = try? await client.execute(request, timeout: .seconds(30)),
            let bytes = try? await response.body.collect(upTo: 1 << 22),
            let json = try? JSONValue(parsing: bytes.readableBytesView)
        else { return nil }
        return json["result"]
    }

    // 3. The timed run: C workers, each sending its share in turn.
    let requestBodies = bodies
    let workers = min(options.concurrency, options.payments)
    let total = options.payments
    _ = await rpc("devnet_statsReset", "[]")
    let started = ContinuousClock.now
    let results = await withTaskGroup(of: ([Duration], [String], [String]).self) { group in
        for worker in 0..<workers {
            group.addTask {
                var latencies: [Duration] = []
                var hashes: [String] = []
                var failures: [String] = []
                var index = worker
                while index < total {
                    let (elapsed, hash, failure) = await settle(requestBodies[index])
                    latencies.append(elapsed)
                    if let hash { hashes.append(hash) }
                    if let failure { failures.append(failure) }
                    index += workers
                }
                return (latencies, hashes, failures)
            }
        }
        var all: ([Duration], [String], [String]) = ([], [], [])
        for await part in group {
            all.0 += part.0
            all.1 += part.1
            all.2 += part.2
        }
        return all
    }
    let wall = ContinuousClock.now - started
    let nodeCalls = await rpc("devnet_stats", "[]")
    let (latencies, hashes, failures) = results

    // 4. What the chain says: the gas of every transaction, and the payee's balance.
    let transactions = Set(hashes.map { $0.lowercased() })
    var gas: UInt64 = 0
    var missingReceipts = 0
    for hash in transactions {
        guard let used = await rpc("eth_getTransactionReceipt", #"["\#(hash)"]"#)?["gasUsed"]?.stringValue,
            let value = UInt64(used.dropFirst(2), radix: 16)
        else {
            missingReceipts += 1
            continue
        }
        gas += value
    }
    let balanceCall = try ABI.encodeCall("balanceOf(address)", [.address(try EthereumAddress(payee))])
    let balanceText = await rpc("eth_call", #"[{"to":"\#(state.token)","data":"\#(Hex.encode(balanceCall))"},"latest"]"#)?.stringValue
    let balance = balanceText.flatMap { UInt256(hex: $0) }
    let expected = UInt256(amount) * UInt256(UInt64(hashes.count))
    try await client.shutdown()
    server?.cancel()
    _ = try? await server?.value

    func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
    let sorted = latencies.map(milliseconds).sorted()
    func percentile(_ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let value = sorted[min(sorted.count - 1, Int((p * Double(sorted.count - 1)).rounded()))]
        return (value * 10).rounded() / 10
    }
    let seconds = milliseconds(wall) / 1000
    var load = ""
    if let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) { load = text.split(separator: " ").prefix(3).joined(separator: " ") }
    let mode = options.batch ? "batched (max \(options.maximumBatch), window \(options.batchWindowMilliseconds) ms)" : "single"
    let label = options.label ?? options.facilitatorURL ?? "swift in-process, \(mode)"
    func number(_ value: Double) -> JSONValue { JSONNumber(value).map(JSONValue.number) ?? .null }
    func integer(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
    var result = JSONObject()
    result["label"] = .string(label)
    result["payments"] = integer(total)
    result["concurrency"] = integer(workers)
    result["settled"] = integer(hashes.count)
    result["failed"] = integer(failures.count)
    result["settlementsPerSec"] = number((Double(hashes.count) / seconds * 10).rounded() / 10)
    result["p50Ms"] = number(percentile(0.5))
    result["p90Ms"] = number(percentile(0.9))
    result["p99Ms"] = number(percentile(0.99))
    result["wallSeconds"] = number((seconds * 100).rounded() / 100)
    result["transactions"] = integer(transactions.count)
    result["missingReceipts"] = integer(missingReceipts)
    result["gasPerSettlement"] = number(hashes.isEmpty ? 0 : (Double(gas) / Double(hashes.count)).rounded())
    result["payeeBalanceExact"] = .bool(balance == expected)
    result["loadAverage"] = .string(load)
    if let nodeCalls, let calls = nodeCalls["totalCalls"]?.numberValue?.uint64Value, !hashes.isEmpty {
        result["nodeCallsPerSettlement"] = number((Double(calls) / Double(total) * 100).rounded() / 100)
        if let detail = nodeCalls["calls"] { result["nodeCalls"] = detail }
    }
    print(String(decoding: JSONValue.object(result).serialized(), as: UTF8.self))
    if let first = failures.first { FileHandle.standardError.write(Data("first failure: \(first)\n".utf8)) }
    if !failures.isEmpty || balance != expected { exit(1) }
}
