import Foundation
import FuzzSupport
// libFuzzer target: Solana wire transactions and messages, and the exact facilitator's offline
// verification of a payment carrying them.
import X402
import X402Solana

/// A node that is never asked: the offline verification makes no call.
struct NoNode: SolanaRPC {
    func fail() -> SolanaRPCError { SolanaRPCError(.transport, "no node") }
    func latestBlockhash(commitment: SolanaCommitment) async throws(SolanaRPCError) -> SolanaBlockhash { throw fail() }
    func accountInfo(_ address: String, commitment: SolanaCommitment) async throws(SolanaRPCError) -> SolanaAccountInfo? { throw fail() }
    func accountInfos(_ addresses: [String], commitment: SolanaCommitment) async throws(SolanaRPCError) -> [SolanaAccountInfo?] { throw fail() }
    func simulateTransaction(_ transaction: String, sigVerify: Bool, commitment: SolanaCommitment) async throws(SolanaRPCError) -> SolanaSimulation {
        throw fail()
    }
    func sendTransaction(_ transaction: String, skipPreflight: Bool, preflightCommitment: SolanaCommitment) async throws(SolanaRPCError) -> String {
        throw fail()
    }
    func signatureStatuses(_ signatures: [String]) async throws(SolanaRPCError) -> [SolanaSignatureStatus?] { throw fail() }
    func minimumBalanceForRentExemption(dataLength: Int) async throws(SolanaRPCError) -> UInt64 { throw fail() }
    func blockHeight(commitment: SolanaCommitment) async throws(SolanaRPCError) -> UInt64 { throw fail() }
}

let requirements = PaymentRequirements(
    scheme: "exact", network: .solanaMainnet, amount: "1000", asset: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
    payTo: "2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4", maxTimeoutSeconds: 60,
    extra: ["feePayer": "Hg7RG47urgdpsacTdrbTPgxe4gCviAb4EuHb4o33CdSK", "memo": "pi_3abc123def456"])
let facilitatorSeed: [UInt8] = [
    0x4b, 0x55, 0x3f, 0xdf, 0xf1, 0x71, 0xd8, 0x98, 0xcd, 0x92, 0x6d, 0x07, 0x94, 0xca, 0xc9, 0xfd,
    0xfe, 0xa1, 0xb9, 0xaf, 0x89, 0x86, 0x5e, 0xf1, 0x79, 0x30, 0x1a, 0x28, 0x8b, 0x08, 0x09, 0xa8,
]
let facilitator = ExactSVMFacilitator(nodes: [.solanaMainnet: NoNode()], feePayers: [try! SolanaKeypair(seed: facilitatorSeed)])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSolana(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    if let transaction = try? SolanaTransaction(bytes: bytes) {
        // Canonical-only decoding: what was decoded serializes to the input itself.
        guard transaction.serialize() == bytes else { fatalError("transaction decoding accepted a non-canonical encoding") }
        guard transaction.message.serialize() == transaction.messageBytes else { fatalError("message round trip differs") }
        _ = try? transaction.message.decompile()
        _ = transaction.invalidSignatureSlots(allowingEmpty: [0])
        let payload = AnyPaymentPayload.v2(PaymentPayload(accepted: requirements, payload: ["transaction": .string(transaction.base64)]))
        _ = facilitator.verifyOffline(payload, requirements: .v2(requirements))
    }
    if let message = try? SolanaMessage(bytes: bytes) {
        guard message.serialize() == bytes else { fatalError("message decoding accepted a non-canonical encoding") }
    }
    if let text = String(validating: bytes, as: UTF8.self) {
        _ = try? Base58.decode(text)
        let payload = AnyPaymentPayload.v2(PaymentPayload(accepted: requirements, payload: ["transaction": .string(text)]))
        _ = facilitator.verifyOffline(payload, requirements: .v2(requirements))
    }
    return 0
}

// MARK: - Entry point

@_cdecl("FuzzSolana_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzSolana)
}
