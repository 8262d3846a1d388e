// `x402-loadbench verify`: a bounded load of valid `/verify` requests against a facilitator on the
// devnet. Payloads are signed before the clock starts; every answer must be `isValid: true`.
//
//     x402-loadbench verify --devnet-state .devnet-run/NAME/devnet.json [--requests 2000] [--concurrency 16]
//         [--payloads 64] [--warmup 100] [--simulate] [--facilitator-url URL] [--label TEXT]
//
// Without --facilitator-url the Swift facilitator (FacilitatorService, memory database, simulation
// off unless --simulate) runs in this process on a free port; with it, any facilitator (for example
// the Python SDK's, Tools/interop/py_facilitator.py) is measured with the same client and payloads.

import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import X402
import X402EVM
import X402Facilitator

struct VerifyBenchmarkOptions {
    var statePath: String?
    var facilitatorURL: String?
    var requests = 2000
    var concurrency = 16
    var payloads = 64
    var warmup = 100
    var simulate = false
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
            case "--requests": requests = try count(flag, minimum: 1)
            case "--concurrency": concurrency = try count(flag, minimum: 1)
            case "--payloads": payloads = try count(flag, minimum: 1)
            case "--warmup": warmup = try count(flag, minimum: 0)
            case "--simulate": simulate = true
            case "--label": label = try value(flag)
            default: throw BenchmarkUsage("unknown option \(flag)")
            }
        }
        guard statePath != nil else { throw BenchmarkUsage("--devnet-state PATH (the devnet's devnet.json) is required") }
    }
}

struct BenchmarkUsage: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The devnet's state file: RPC URL, token and funded dev keys (test keys, never real funds).
struct DevnetState {
    let rpcURL: String
    let network: Network
    let token: String
    let facilitatorKey: PrivateKey
    let payerKeys: [PrivateKey]
    let payee: String

    init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw BenchmarkUsage("cannot read \(path)") }
        let json = try JSONValue(parsing: Array(data))
        guard let rpc = json["rpcUrl"]?.stringValue, let networkText = json["network"]?.stringValue, let network = Network(networkText),
            let token = json["token"]?["address"]?.stringValue, let accounts = json["accounts"]?.arrayValue
        else { throw BenchmarkUsage("\(path) is not a devnet state file") }
        func keys(_ role: String) throws -> [PrivateKey] {
            try accounts.filter { $0["role"]?.stringValue == role }.compactMap { $0["privateKey"]?.stringValue }.map { try PrivateKey(hex: $0) }
        }
        guard let facilitator = try keys("facilitator").first, let payee = try keys("payee").last else {
            throw BenchmarkUsage("\(path) lists no facilitator or payee account")
        }
        rpcURL = rpc
        self.network = network
        self.token = token
        facilitatorKey = facilitator
        payerKeys = try keys("payer")
        self.payee = payee.address.checksummed
        guard !payerKeys.isEmpty else { throw BenchmarkUsage("\(path) lists no payer account") }
    }
}

func runVerifyBenchmark(_ arguments: [String]) async throws {
    let options: VerifyBenchmarkOptions
    do {
        options = try VerifyBenchmarkOptions(arguments)
    } catch {
        FileHandle.standardError.write(Data("x402-loadbench verify: \(error)\n".utf8))
        exit(64)
    }
    let state = try DevnetState(path: options.statePath!)

    // 1. Sign the payloads (not timed): distinct nonces, spread over the funded payers.
    let requirements = PaymentRequirements(
        scheme: "exact", network: state.network, amount: "10000", asset: state.token, payTo: state.payee, maxTimeoutSeconds: 3600,
        extra: ["name": "USDC", "version": "2"])
    var bodies: [ByteBuffer] = []
    for index in 0..<options.payloads {
        let key = state.payerKeys[index % state.payerKeys.count]
        let signed = try await ExactEVMClient(signer: key).createPayload(for: requirements, context: PaymentContext(version: .v2))
        let payload = PaymentPayload(
            resource: ResourceInfo(url: "http://127.0.0.1:9/bench"), accepted: requirements, payload: signed.payload)
        let request = FacilitatorRequest(paymentPayload: .v2(payload), paymentRequirements: .v2(requirements))
        bodies.append(ByteBuffer(bytes: request.jsonBytes()))
    }

    // 2. The facilitator: given, or this process's.
    var server: Task<Void, any Error>?
    let baseURL: String
    if let url = options.facilitatorURL {
        baseURL = url
    } else {
        // The load client sends every payload from a few payers: the per-payer and per-client
        // abuse limits (on by default) are off in the benchmark configuration.
        var configuration = BenchFacilitator.configuration(state)
        configuration.simulateInVerify = options.simulate
        let running = await BenchFacilitator.runInProcess(try await BenchFacilitator.service(configuration, state: state))
        server = running.server
        baseURL = running.baseURL
    }

    var clientConfiguration = HTTPClient.Configuration()
    clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = options.concurrency
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
    let verifyURL = baseURL + "/verify"

    @Sendable func verify(_ body: ByteBuffer) async -> (Duration, Bool, String?) {
        var request = HTTPClientRequest(url: verifyURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(body)
        let started = ContinuousClock.now
        do {
            let response = try await client.execute(request, timeout: .seconds(60))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            let elapsed = ContinuousClock.now - started
            let json = try JSONValue(parsing: bytes.readableBytesView)
            let valid = response.status.code == 200 && json["isValid"] == true
            return (elapsed, valid, valid ? nil : "HTTP \(response.status.code) \(json)")
        } catch {
            return (ContinuousClock.now - started, false, "\(error)")
        }
    }

    /// Runs `total` requests on `concurrency` workers; returns each latency, the failures and the wall time.
    let requestBodies = bodies
    let concurrency = options.concurrency
    @Sendable func load(total: Int) async -> (latencies: [Duration], failures: [String], wall: Duration) {
        let started = ContinuousClock.now
        let workers = min(concurrency, total)
        let results = await withTaskGroup(of: ([Duration], [String]).self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var latencies: [Duration] = []
                    var failures: [String] = []
                    var index = worker
                    while index < total {
                        let (elapsed, valid, failure) = await verify(requestBodies[index % requestBodies.count])
                        latencies.append(elapsed)
                        if !valid, let failure { failures.append(failure) }
                        index += workers
                    }
                    return (latencies, failures)
                }
            }
            var all: ([Duration], [String]) = ([], [])
            for await part in group {
                all.0 += part.0
                all.1 += part.1
            }
            return all
        }
        return (results.0, results.1, ContinuousClock.now - started)
    }

    /// The devnet's call counters (`devnet_stats`; `devnet_statsReset` also zeroes them), if it has them.
    @Sendable func nodeStats(reset: Bool) async -> JSONValue? {
        var request = HTTPClientRequest(url: state.rpcURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let method = reset ? "devnet_statsReset" : "devnet_stats"
        request.body = .bytes(ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"method":"\#(method)","params":[]}"#))
        guard let response = try? await client.execute(request, timeout: .seconds(10)),
            let bytes = try? await response.body.collect(upTo: 1 << 20),
            let json = try? JSONValue(parsing: bytes.readableBytesView)
        else { return nil }
        return json["result"]
    }

    if options.warmup > 0 { _ = await load(total: options.warmup) }
    _ = await nodeStats(reset: true)
    let (latencies, failures, wall) = await load(total: options.requests)
    let nodeCalls = await nodeStats(reset: false)
    try await client.shutdown()
    server?.cancel()
    _ = try? await server?.value

    func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
    let sorted = latencies.map(milliseconds).sorted()
    func percentile(_ p: Double) -> Double {
        let value = sorted[min(sorted.count - 1, Int((p * Double(sorted.count - 1)).rounded()))]
        return (value * 100).rounded() / 100
    }
    let seconds = milliseconds(wall) / 1000
    var load = (0.0, 0.0, 0.0)
    if let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) {
        let parts = text.split(separator: " ").compactMap { Double($0) }
        if parts.count >= 3 { load = (parts[0], parts[1], parts[2]) }
    }
    let label =
        options.label ?? (options.facilitatorURL == nil ? "swift in-process, simulate \(options.simulate ? "on" : "off")" : options.facilitatorURL!)
    func number(_ value: Double) -> JSONValue { JSONNumber(value).map(JSONValue.number) ?? .null }
    func integer(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
    var result = JSONObject()
    result["label"] = .string(label)
    result["requests"] = integer(latencies.count)
    result["concurrency"] = integer(options.concurrency)
    result["payloads"] = integer(options.payloads)
    result["invalid"] = integer(failures.count)
    result["reqPerSec"] = number((Double(latencies.count) / seconds * 10).rounded() / 10)
    result["p50Ms"] = number(percentile(0.5))
    result["p90Ms"] = number(percentile(0.9))
    result["p99Ms"] = number(percentile(0.99))
    result["maxMs"] = number(percentile(1))
    result["wallSeconds"] = number((seconds * 100).rounded() / 100)
    result["loadAverage"] = .string("\(load.0) \(load.1) \(load.2)")
    if let nodeCalls, let total = nodeCalls["totalCalls"]?.numberValue?.uint64Value,
        let http = nodeCalls["httpRequests"]?.numberValue?.uint64Value, !latencies.isEmpty
    {
        // Everything the devnet served during the timed requests (warm-up excluded).
        result["nodeCallsPerVerify"] = number((Double(total) / Double(latencies.count) * 1000).rounded() / 1000)
        result["nodeHTTPRequestsPerVerify"] = number((Double(http) / Double(latencies.count) * 1000).rounded() / 1000)
        if let calls = nodeCalls["calls"] { result["nodeCalls"] = calls }
    }
    print(String(decoding: JSONValue.object(result).serialized(), as: UTF8.self))
    if let first = failures.first { FileHandle.standardError.write(Data("first failure: \(first)\n".utf8)) }
    if !failures.isEmpty { exit(1) }
}
