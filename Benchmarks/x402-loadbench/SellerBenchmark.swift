// x402-loadbench seller: the seller's HTTP path under load, all in one process.
//
//     X402_DEV_TARGETS=1 swift run -c release x402-loadbench seller [--requests N] [--concurrency C] [--warmup W] [--cases free,unpaid,paid]
//
// * Server: a Hummingbird app on 127.0.0.1 with `X402Middleware`; `GET /paid` costs $0.01 in USDC on
//   eip155:84532, `GET /free` is unprotected (the baseline).
// * Facilitator, in process: the real `ExactEVMFacilitator` verify (offline checks and EIP-712
//   signature recovery; simulation off) over an offline chain that knows only its chain id, and a
//   FAKE settlement that answers success without touching any chain (clearly not a settlement:
//   the devnet mines at most one block a second, which would measure the devnet, not the seller).
// * Load: AsyncHTTPClient, C workers each sending its share sequentially over keep-alive
//   connections; the paid case sends payloads pre-signed before timing, each with its own nonce.
//
// Prints one line per case: requests, concurrency, req/s, latency p50/p90/p99/max, errors, and
// the load average before and after.

import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import X402
import X402EVM
import X402Hummingbird

func runSellerBenchmark(_ arguments: [String]) async throws {
    let options = try SellerBenchmarkOptions(arguments)
    let payTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"

    // The seller.
    var schemes = SchemeRegistry<any SchemeServer>()
    schemes.registerExactEVM()
    let router = Router()
    router.add(
        middleware: try X402Middleware(
            configuration: .init(
                routes: [
                    "GET /paid": .exact(
                        "$0.01", on: .baseSepolia, payTo: .fixed(payTo), description: "Benchmark resource", mimeType: "application/json")
                ],
                facilitator: SellerBenchmarkFacilitator(), schemes: schemes)))
    let body = ByteBuffer(string: #"{"report":{"weather":"sunny","temperature":70}}"#)
    router.get("paid") { _, _ in Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body)) }
    router.get("free") { _, _ in Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body)) }

    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let app = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in
            continuation.yield(channel.localAddress?.port ?? 0)
            continuation.finish()
        })
    let server = Task { try await app.runService(gracefulShutdownSignals: []) }
    var port = 0
    for await p in ports { port = p }
    let base = "http://127.0.0.1:\(port)"

    var configuration = HTTPClient.Configuration()
    configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = options.concurrency
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)

    print("seller benchmark: \(options.requests) requests per case, concurrency \(options.concurrency), warm-up \(options.warmup)")
    print("load average before: \(sellerLoadAverage())")
    print("case    requests  conc     req/s    p50 ms    p90 ms    p99 ms    max ms  errors")
    do {
        for name in options.cases {
            switch name {
            case "free":
                let result = try await sellerMeasure(client: client, url: base + "/free", headers: { _ in [] }, expect: 200, options: options)
                result.print(name)
            case "unpaid":
                let result = try await sellerMeasure(client: client, url: base + "/paid", headers: { _ in [] }, expect: 402, options: options)
                result.print(name)
            case "paid":
                // One 402 gives the offer; every payment is signed now, before the clock starts.
                let offer = try await sellerOfferOf(client: client, url: base + "/paid")
                let total = options.requests + options.warmup
                let signer = ExactEVMClient(signer: PrivateKey.random())
                var headers: [String] = []
                headers.reserveCapacity(total)
                for _ in 0..<total {
                    let signed = try await signer.createPayload(for: offer.accepts[0], context: PaymentContext(version: .v2))
                    headers.append(PaymentPayload(resource: offer.resource, accepted: offer.accepts[0], payload: signed.payload).headerValue)
                }
                let signedHeaders = headers
                let result = try await sellerMeasure(
                    client: client, url: base + "/paid", headers: { [("PAYMENT-SIGNATURE", signedHeaders[$0])] }, expect: 200, options: options)
                result.print(name)
            default:
                throw SellerBenchmarkOptions.UsageError(message: "unknown case \(name)")
            }
        }
    } catch {
        try? await client.shutdown()
        server.cancel()
        throw error
    }
    print("load average after: \(sellerLoadAverage())")
    try await client.shutdown()
    server.cancel()
    _ = try? await server.value
}

struct SellerBenchmarkOptions {
    var requests = 5000
    var concurrency = 16
    var warmup = 500
    var cases = ["free", "unpaid", "paid"]

    struct UsageError: Error, CustomStringConvertible {
        let message: String
        var description: String {
            message + "\nusage: x402-loadbench seller [--requests N] [--concurrency C] [--warmup W] [--cases free,unpaid,paid]"
        }
    }

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        func number(_ flag: String) throws -> Int {
            guard let text = rest.popFirst(), let value = Int(text), value > 0 else { throw UsageError(message: "\(flag) needs a positive number") }
            return value
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--requests": requests = try number(flag)
            case "--concurrency": concurrency = try number(flag)
            case "--warmup": warmup = try number(flag)
            case "--cases":
                guard let list = rest.popFirst() else { throw UsageError(message: "--cases needs a list") }
                cases = list.split(separator: ",").map(String.init)
            default: throw UsageError(message: "unknown option \(flag)")
            }
        }
    }
}

struct SellerCaseResult {
    var requests: Int
    var concurrency: Int
    var seconds: Double
    /// Sorted latencies in seconds.
    var latencies: [Double]
    var errors: Int

    func percentile(_ p: Double) -> Double {
        guard !latencies.isEmpty else { return .nan }
        let index = min(latencies.count - 1, Int((p * Double(latencies.count)).rounded(.up)) - 1)
        return latencies[max(0, index)]
    }

    func print(_ name: String) {
        func ms(_ s: Double) -> String { String(format: "%9.3f", s * 1000) }
        Swift.print(
            name.padding(toLength: 7, withPad: " ", startingAt: 0),
            String(format: "%9d %5d %9.0f", requests, concurrency, Double(requests) / seconds),
            ms(percentile(0.5)), ms(percentile(0.9)), ms(percentile(0.99)), ms(latencies.last ?? .nan), String(format: "%7d", errors))
    }
}

/// Sends `warmup` then `requests` GETs from `concurrency` workers; request `i` carries `headers(i)`.
func sellerMeasure(
    client: HTTPClient, url: String, headers: @escaping @Sendable (Int) -> [(String, String)], expect: Int, options: SellerBenchmarkOptions
) async throws -> SellerCaseResult {
    @Sendable func run(_ indices: StrideTo<Int>) async -> ([Double], Int) {
        var latencies: [Double] = []
        var errors = 0
        let clock = ContinuousClock()
        for i in indices {
            var request = HTTPClientRequest(url: url)
            for (name, value) in headers(i) { request.headers.add(name: name, value: value) }
            let start = clock.now
            do {
                let response = try await client.execute(request, timeout: .seconds(30))
                _ = try await response.body.collect(upTo: 1 << 20)
                if response.status.code != expect { errors += 1 }
            } catch {
                errors += 1
            }
            let elapsed = clock.now - start
            latencies.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        return (latencies, errors)
    }
    func phase(offset: Int, count: Int) async -> (Double, [Double], Int) {
        let clock = ContinuousClock()
        let start = clock.now
        let (all, errors) = await withTaskGroup(of: ([Double], Int).self) { group in
            for worker in 0..<options.concurrency {
                group.addTask { await run(stride(from: offset + worker, to: offset + count, by: options.concurrency)) }
            }
            var all: [Double] = []
            var errors = 0
            for await (latencies, e) in group {
                all += latencies
                errors += e
            }
            return (all, errors)
        }
        let elapsed = clock.now - start
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, all.sorted(), errors)
    }
    if options.warmup > 0 { _ = await phase(offset: 0, count: options.warmup) }
    let (seconds, latencies, errors) = await phase(offset: options.warmup, count: options.requests)
    return SellerCaseResult(requests: options.requests, concurrency: options.concurrency, seconds: seconds, latencies: latencies, errors: errors)
}

func sellerOfferOf(client: HTTPClient, url: String) async throws -> PaymentRequired {
    let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
    _ = try await response.body.collect(upTo: 1 << 20)
    guard response.status.code == 402, let header = response.headers.first(name: "PAYMENT-REQUIRED") else {
        throw SellerBenchmarkOptions.UsageError(message: "expected a 402 with PAYMENT-REQUIRED from \(url), got \(response.status.code)")
    }
    return try PaymentRequired(headerValue: header)
}

func sellerLoadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "n/a"
}

/// The benchmark's in-process facilitator: the real exact-EVM verify (simulation off), and a
/// fake settlement (no chain) that answers success with a made-up transaction hash.
struct SellerBenchmarkFacilitator: FacilitatorClient {
    let exact: ExactEVMFacilitator

    init() {
        var options = ExactEVMFacilitator.Options()
        options.simulateInVerify = false
        let chain = EVMFacilitatorChain(network: .baseSepolia, client: SellerOfflineChain(chainID: 84532), signers: [PrivateKey.random()])
        exact = ExactEVMFacilitator(chains: [chain], options: options)
    }

    func verify(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> VerifyResponse {
        await exact.verify(request.paymentPayload, requirements: request.paymentRequirements)
    }

    /// FAKE: nothing is sent anywhere. The transaction is the authorization nonce, not a hash.
    func settle(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> SettleResponse {
        let nonce = request.paymentPayload.payload["authorization"]?["nonce"]?.stringValue ?? "0x"
        let payer = request.paymentPayload.payload["authorization"]?["from"]?.stringValue
        return SettleResponse(success: true, transaction: nonce, network: request.paymentRequirements.networkIdentifier, payer: payer)
    }

    func supported() async throws(FacilitatorClientError) -> SupportedResponse {
        SupportedResponse(kinds: [SupportedKind(x402Version: .v2, scheme: "exact", network: "eip155:84532")])
    }
}

/// An EVM "node" that knows only its chain id; every other call fails (so a verify that needed
/// the chain would show up as errors, not as made-up answers).
struct SellerOfflineChain: EthereumClient {
    let chainID: UInt64
    private static var offline: EthereumClientError { .transport("offline benchmark chain") }

    func chainID() async throws(EthereumClientError) -> UInt64 { chainID }
    func blockNumber() async throws(EthereumClientError) -> UInt64 { throw Self.offline }
    func transactionCount(of address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> UInt64 { throw Self.offline }
    func balance(of address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> UInt256 { throw Self.offline }
    func code(at address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> [UInt8] { throw Self.offline }
    func call(_ request: CallRequest, at block: BlockTag) async throws(EthereumClientError) -> [UInt8] { throw Self.offline }
    func estimateGas(_ request: CallRequest) async throws(EthereumClientError) -> UInt64 { throw Self.offline }
    func sendRawTransaction(_ raw: [UInt8]) async throws(EthereumClientError) -> Bytes32 { throw Self.offline }
    func transactionReceipt(_ hash: Bytes32) async throws(EthereumClientError) -> TransactionReceipt? { throw Self.offline }
    func gasPrice() async throws(EthereumClientError) -> UInt256 { throw Self.offline }
    func maxPriorityFeePerGas() async throws(EthereumClientError) -> UInt256 { throw Self.offline }
    func feeHistory(blockCount: Int, newestBlock: BlockTag, rewardPercentiles: [Double]) async throws(EthereumClientError) -> FeeHistory {
        throw Self.offline
    }
}
