// x402-bench: micro-benchmarks for swift-x402 hot paths.
//
//     X402_DEV_TARGETS=1 swift run -c release x402-bench [filter] [--iterations N]
//
// Each case warms up, then runs timed batches and reports the median µs/op over batches.

import Foundation
import X402
import X402EVM
import X402Solana

struct BenchmarkCase {
    let name: String
    let iterations: Int
    let body: () -> UInt64
}

/// Keeps results observable so the optimiser cannot delete the work.
nonisolated(unsafe) var sink: UInt64 = 0

func fold(_ bytes: Bytes32) -> UInt64 {
    bytes.withUnsafeBytes { UInt64($0[0]) | UInt64($0[31]) << 8 }
}

func fold(_ address: EthereumAddress) -> UInt64 {
    address.withUnsafeBytes { UInt64($0[0]) | UInt64($0[19]) << 8 }
}

func measure(_ benchmark: BenchmarkCase, scale: Double) -> (median: Double, min: Double) {
    let iterations = max(1, Int(Double(benchmark.iterations) * scale))
    // Warm-up: about a tenth of the work, at least a few runs.
    for _ in 0..<max(3, iterations / 10) { sink &+= benchmark.body() }
    let batches = 7
    let perBatch = max(1, iterations / batches)
    var samples: [Double] = []
    let clock = ContinuousClock()
    for _ in 0..<batches {
        let start = clock.now
        for _ in 0..<perBatch { sink &+= benchmark.body() }
        let elapsed = clock.now - start
        let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        samples.append(nanoseconds / 1000 / Double(perBatch))
    }
    samples.sort()
    return (samples[samples.count / 2], samples[0])
}

// MARK: - Fixtures for the cases

let key = try! PrivateKey(hex: "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
let sixtyFourBytes = [UInt8]((0..<64).map { UInt8($0) })
let digest = Keccak256.hash(utf8: "x402 benchmark digest")
let signature = key.sign(digest: digest)

/// The spec's EIP-3009 example payload (test-vectors.md §4), as a facilitator receives it.
let eip3009PayloadJSON = Array(
    """
    {"signature":"0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c","authorization":{"from":"0x857b06519E91e3A54538791bDbb0E22373e36b66","to":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","value":"10000","validAfter":"1740672089","validBefore":"1740672154","nonce":"0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"}}
    """.utf8)
let usdcBaseSepolia = try! EthereumAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e")

/// Parse the payload JSON, build the EIP-712 digest via the typed fast path, recover the signer.
func recoverEIP3009Signer(_ json: [UInt8]) throws -> EthereumAddress {
    let payload = try JSONValue(parsing: json)
    guard let authorizationObject = payload["authorization"], let signatureText = payload["signature"]?.stringValue else {
        throw TypedDataError.invalidStructure("missing authorization or signature")
    }
    let authorization = try TransferWithAuthorization(authorizationObject)
    let signature = try Signature(hex: signatureText)
    // Domain from the payment requirements (extra.name/version, chain id, asset); separator cached.
    let domain = EIP712Domain(name: "USDC", version: "2", chainId: 84532, verifyingContract: usdcBaseSepolia)
    let signer = try authorization.recoverSigner(of: signature, in: domain)
    guard signer == authorization.from else { throw SignatureError.recoveryFailed }
    return signer
}

let expectedSigner = try! EthereumAddress("0x857b06519E91e3A54538791bDbb0E22373e36b66")
precondition(try! recoverEIP3009Signer(eip3009PayloadJSON) == expectedSigner, "EIP-3009 vector must recover to its from")

let typedDataJSON = Array(
    TransferWithAuthorization(
        from: expectedSigner, to: try! EthereumAddress("0x209693Bc6afc0C5328bA36FaF03C514EF312287C"), value: 10000,
        validAfter: 1_740_672_089, validBefore: 1_740_672_154,
        nonce: try! Bytes32(hex: "0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480")
    ).typedData(in: EIP712Domain(name: "USDC", version: "2", chainId: 84532, verifyingContract: usdcBaseSepolia)).jsonValue.serialized())

let transferCallTypes = try! ABIType.parameterList("address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32")
let transferCallValues: [ABIValue] = [
    .address(expectedSigner), .address(usdcBaseSepolia), .uint(10000), .uint(1_740_672_089), .uint(1_740_672_154),
    .bytes32(digest), .uint(28), .bytes32(signature.r), .bytes32(signature.s),
]

// MARK: - Solana fixture

/// A node that is never asked: the offline verify makes no call.
struct NoSolanaNode: SolanaRPC {
    func fail() -> SolanaRPCError { SolanaRPCError(.transport, "no node in the benchmark") }
    func latestBlockhash(commitment: SolanaCommitment) async throws(SolanaRPCError) -> SolanaBlockhash { throw fail() }
    func accountInfo(_ address: String, commitment: SolanaCommitment) async throws(SolanaRPCError) -> SolanaAccountInfo? { throw fail() }
    func accountInfos(_ addresses: [String], commitment: SolanaCommitment) async throws(SolanaRPCError) -> [SolanaAccountInfo?] {
        throw fail()
    }
    func simulateTransaction(
        _ transaction: String, sigVerify: Bool, commitment: SolanaCommitment
    ) async throws(SolanaRPCError)
        -> SolanaSimulation
    { throw fail() }
    func sendTransaction(
        _ transaction: String, skipPreflight: Bool, preflightCommitment: SolanaCommitment
    ) async throws(SolanaRPCError)
        -> String
    { throw fail() }
    func signatureStatuses(_ signatures: [String]) async throws(SolanaRPCError) -> [SolanaSignatureStatus?] { throw fail() }
    func minimumBalanceForRentExemption(dataLength: Int) async throws(SolanaRPCError) -> UInt64 { throw fail() }
    func blockHeight(commitment: SolanaCommitment) async throws(SolanaRPCError) -> UInt64 { throw fail() }
}

/// The svm-vectors "spl-token-random-nonce-memo" payment (a partially signed v0 transaction).
let solanaTransaction =
    "AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAADRB6d4omCE/V7JrEAr4JtGPHncn+DGZuZK9T3hYBPwVkYxMfITMURCFwJBUDamlcOTjV9JmahFyl5JaLN5sXQGgAIBBAj3v+ZH4wFWFQs2zbjqdcDvlDLQcsp7HnrQfuKV9PTM5E9dGfOJPKdCimq3/AC6O7ERn7TIGGAlu/ZDkO7iW4ZFJYuUDj7ntGZ7FdBa2Ko/AGv0A4kc1DlYZUOzyJn2DwDVgDegD39KLAPGNdJC8Av0SRl9FjwX7VxGgMPwupygUwMGRm/lIRcy/+ytunLDm+e8jOW7xfcSayxDmzpAAAAABUpTWpkpIQZNJOhxYNo4fHw1td28kruB5B+oQEEFRI0G3fbh12Whk9nL4UbO63msHLSF7V9bN5E6jPWFfv8Aqcb6evO+2606PWXzaqvJdDGxu+TC0vbg5HymAgNFL11haqrFn1dknaNgHexBtXDGXda0gBAsCSsJqvG2tMmlUuMEBAAFAiBOAAAEAAkDAQAAAAAAAAAGBAMHAgEKDOgDAAAAAAAABgUAIDAwMTEyMjMzNDQ1NTY2Nzc4ODk5YWFiYmNjZGRlZWZmAA=="
let solanaRequirementsV2 = PaymentRequirements(
    scheme: "exact", network: .solanaMainnet, amount: "1000", asset: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
    payTo: "2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4", maxTimeoutSeconds: 60,
    extra: ["feePayer": "Hg7RG47urgdpsacTdrbTPgxe4gCviAb4EuHb4o33CdSK"])
let solanaRequirements = AnyPaymentRequirements.v2(solanaRequirementsV2)
let solanaPayload = AnyPaymentPayload.v2(PaymentPayload(accepted: solanaRequirementsV2, payload: ["transaction": .string(solanaTransaction)]))
let solanaFacilitator = ExactSVMFacilitator(
    nodes: [.solanaMainnet: NoSolanaNode()],
    feePayers: [
        try! SolanaKeypair(
            seed: (0..<32).map { i in
                [UInt8]([
                    0x4b, 0x55, 0x3f, 0xdf, 0xf1, 0x71, 0xd8, 0x98, 0xcd, 0x92, 0x6d, 0x07, 0x94, 0xca, 0xc9, 0xfd, 0xfe, 0xa1, 0xb9, 0xaf, 0x89,
                    0x86, 0x5e, 0xf1, 0x79, 0x30, 0x1a, 0x28, 0x8b, 0x08, 0x09, 0xa8,
                ])[i]
            })
    ])

let cases: [BenchmarkCase] = [
    BenchmarkCase(name: "keccak256 (64 B)", iterations: 500_000) {
        sixtyFourBytes.withUnsafeBytes { fold(Keccak256.hash($0)) }
    },
    BenchmarkCase(name: "secp256k1 sign (recoverable, RFC 6979)", iterations: 20_000) {
        fold(key.sign(digest: digest).r)
    },
    BenchmarkCase(name: "secp256k1 recover (signer address)", iterations: 20_000) {
        fold(try! signature.recoverSigner(digest: digest))
    },
    BenchmarkCase(name: "EIP-3009 JSON -> signer (parse + hash + recover)", iterations: 20_000) {
        fold(try! recoverEIP3009Signer(eip3009PayloadJSON))
    },
    BenchmarkCase(name: "EIP-712 generic typed-data JSON -> digest", iterations: 50_000) {
        fold(try! TypedData(json: typedDataJSON).digest())
    },
    BenchmarkCase(name: "EIP-3009 struct hash + digest (fast path)", iterations: 200_000) {
        let domain = EIP712Domain(name: "USDC", version: "2", chainId: 84532, verifyingContract: usdcBaseSepolia)
        return fold(
            TransferWithAuthorization(
                from: expectedSigner, to: usdcBaseSepolia, value: 10000, validAfter: 1, validBefore: 2,
                nonce: digest
            ).digest(in: domain))
    },
    BenchmarkCase(name: "EIP-55 parse (mixed case, checksum verified)", iterations: 200_000) {
        fold(try! EthereumAddress("0x857b06519E91e3A54538791bDbb0E22373e36b66"))
    },
    BenchmarkCase(name: "ABI encode transferWithAuthorization args", iterations: 100_000) {
        UInt64(try! ABI.encode(transferCallValues, as: transferCallTypes).count)
    },
    BenchmarkCase(name: "Solana verify (decode + static + Ed25519, no RPC)", iterations: 20_000) {
        let verdict = solanaFacilitator.verifyOffline(solanaPayload, requirements: solanaRequirements)
        return verdict.isValid ? UInt64(verdict.payer?.utf8.count ?? 0) : 0
    },
    BenchmarkCase(name: "UInt256 decimal parse + format (78 digits)", iterations: 200_000) {
        UInt64(UInt256(decimal: "115792089237316195423570985008687907853269984665640564039457584007913129639935")!.decimalString.utf8.count)
    },
]

// MARK: - Main

var arguments = Array(CommandLine.arguments.dropFirst())
var scale = 1.0
if let index = arguments.firstIndex(of: "--scale"), index + 1 < arguments.count, let value = Double(arguments[index + 1]) {
    scale = value
    arguments.removeSubrange(index...(index + 1))
}
let filter = arguments.first

print("x402-bench — median µs/op over 7 batches (min in parentheses)")
#if DEBUG
print("WARNING: debug build; run with `X402_DEV_TARGETS=1 swift run -c release x402-bench` for meaningful numbers")
#endif
for benchmark in cases where filter.map({ benchmark.name.localizedCaseInsensitiveContains($0) }) ?? true {
    let result = measure(benchmark, scale: scale)
    let name = benchmark.name.padding(toLength: 52, withPad: " ", startingAt: 0)
    print("\(name) \(String(format: "%9.3f", result.median)) µs/op  (\(String(format: "%.3f", result.min)))")
}
if sink == 42 { print("") }
