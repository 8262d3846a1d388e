import Foundation
import X402
import X402Solana

/// A scripted node for fault injection: simulation answers, statuses per poll, send failures.
final class FakeSolanaRPC: SolanaRPC, @unchecked Sendable {
    private let lock = NSLock()
    var accounts: [String: SolanaAccountInfo] = [:]
    var simulationError: JSONValue?
    var sendError: SolanaRPCError?
    /// Status answers in order, one per `getSignatureStatuses` call; the last repeats.
    var statuses: [SolanaSignatureStatus?] = [SolanaSignatureStatus(slot: 1, confirmations: 1, error: nil, confirmationStatus: .confirmed)]
    /// Statuses answered before anything was sent (nil: not known).
    var statusBeforeSend: SolanaSignatureStatus?
    var blockHeights: [UInt64] = [100]
    var lastValidBlockHeight: UInt64 = 250
    private(set) var sent: [String] = []
    private(set) var simulated: [String] = []
    private(set) var calls: [String] = []
    private var statusCalls = 0
    private var heightCalls = 0

    init() {
        let mintData = [UInt8](repeating: 0, count: 44) + [6, 1] + [UInt8](repeating: 0, count: 36)
        for (mint, program) in [
            ("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", SolanaPublicKey.tokenProgram),
            ("4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU", SolanaPublicKey.tokenProgram),
        ] {
            accounts[mint] = SolanaAccountInfo(owner: program.base58, lamports: 1, data: mintData, executable: false)
        }
    }

    func with<T>(_ body: () -> T) -> T { lock.withLock(body) }
    func record(_ call: String) { lock.withLock { calls.append(call) } }
    var callLog: [String] { lock.withLock { calls } }
    var sentCount: Int { lock.withLock { sent.count } }

    func latestBlockhash(commitment: SolanaCommitment) async throws(SolanaRPCError) -> SolanaBlockhash {
        record("getLatestBlockhash")
        return SolanaBlockhash(
            blockhash: "8BPFMmPgbS4rCo47iUoeaE3YXMt41Teq8f5WYu4e2hZk", lastValidBlockHeight: lock.withLock { lastValidBlockHeight })
    }

    func accountInfo(_ address: String, commitment: SolanaCommitment) async throws(SolanaRPCError) -> SolanaAccountInfo? {
        record("getAccountInfo")
        return lock.withLock { accounts[address] }
    }

    func accountInfos(_ addresses: [String], commitment: SolanaCommitment) async throws(SolanaRPCError) -> [SolanaAccountInfo?] {
        record("getMultipleAccounts")
        return lock.withLock { addresses.map { accounts[$0] } }
    }

    func simulateTransaction(_ transaction: String, sigVerify: Bool, commitment: SolanaCommitment) async throws(SolanaRPCError) -> SolanaSimulation {
        record("simulateTransaction")
        return lock.withLock {
            simulated.append(transaction)
            return SolanaSimulation(error: simulationError)
        }
    }

    func sendTransaction(_ transaction: String, skipPreflight: Bool, preflightCommitment: SolanaCommitment) async throws(SolanaRPCError) -> String {
        record("sendTransaction")
        let error: SolanaRPCError? = lock.withLock {
            if sendError == nil { sent.append(transaction) }
            return sendError
        }
        if let error { throw error }
        guard let tx = try? SolanaTransaction(base64: transaction) else { throw SolanaRPCError(.node(code: -32602), "bad transaction") }
        return tx.id
    }

    func signatureStatuses(_ signatures: [String]) async throws(SolanaRPCError) -> [SolanaSignatureStatus?] {
        record("getSignatureStatuses")
        return lock.withLock {
            if sent.isEmpty { return [statusBeforeSend] }
            let i = Swift.min(statusCalls, statuses.count - 1)
            statusCalls += 1
            return [statuses[i]]
        }
    }

    func minimumBalanceForRentExemption(dataLength: Int) async throws(SolanaRPCError) -> UInt64 { 2_039_280 }

    func blockHeight(commitment: SolanaCommitment) async throws(SolanaRPCError) -> UInt64 {
        record("getBlockHeight")
        return lock.withLock {
            let i = Swift.min(heightCalls, blockHeights.count - 1)
            heightCalls += 1
            return blockHeights[i]
        }
    }
}
