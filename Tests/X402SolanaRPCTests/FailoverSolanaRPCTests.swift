import Foundation
import Testing
import X402
import X402EVMRPC
import X402Solana
import X402SolanaRPC

/// `FailoverSolanaRPC` over the svmnet beside nodes that are down, on another cluster, or fail.
@Suite(.enabled(if: SVMNetEnvironment.shouldRun, "svmnet not running: start Tools/svmnet/start.sh and set X402_SVMNET_URL"))
struct FailoverSolanaRPCTests {
    static let devnetCluster = "EtWTRABZaYq6iMfeYKouRu166VU2xqa1"

    static func isOut(_ health: EndpointHealth) -> Bool {
        if case .outOfService = health { return true }
        return false
    }

    /// A node that is down: nothing listens on port 1 (a privileged port no test server binds).
    static let deadURL = "http://127.0.0.1:1"

    @Test("a node that is down and a node of another cluster are taken out; the svmnet answers")
    func downAndForeign() async throws {
        let svmnet = try #require(SVMNetEnvironment.url, "X402_SVMNET_URL is not set (CI requires the svmnet)")
        let configuration = JSONRPCClient.Configuration(url: "", timeout: .seconds(5), maxRetries: 0, backoffBase: .milliseconds(5))
        // The mainnet cluster expected: the svmnet (devnet's genesis) must not serve it.
        let mainnet = FailoverSolanaRPC(
            urls: [Self.deadURL, svmnet], configuration: configuration, options: .init(expectedCluster: "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"))
        await #expect(throws: SolanaRPCError.self) { _ = try await mainnet.blockHeight(commitment: .confirmed) }
        #expect(mainnet.standings.allSatisfy(Self.isOut))

        let devnet = FailoverSolanaRPC(
            urls: [Self.deadURL, svmnet], configuration: configuration, options: .init(expectedCluster: Self.devnetCluster))
        let height = try await devnet.blockHeight(commitment: .confirmed)
        #expect(height > 0)
        #expect(Self.isOut(devnet.standings[0]))
        #expect(devnet.standings[1] == .inService)
        #expect(try await devnet.genesisHash().hasPrefix(Self.devnetCluster))
    }

    /// A node that answers every request with one fixed error, counting the calls.
    final class Failing: SolanaRPC, @unchecked Sendable {
        let error: SolanaRPCError
        let lock = NSLock()
        var calls = 0
        init(_ error: SolanaRPCError) { self.error = error }
        func fail() -> SolanaRPCError {
            lock.withLock { calls += 1 }
            return error
        }
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

    @Test("a node's JSON-RPC error is its answer (returned, node stays in service); a garbled answer is a fault (next node)")
    func answersAndFaults() async throws {
        let svmnet = try #require(SVMNetEnvironment.url, "X402_SVMNET_URL is not set (CI requires the svmnet)")
        let real = SolanaJSONRPCClient(configuration: .init(url: svmnet, timeout: .seconds(5), maxRetries: 0))

        let refusing = Failing(SolanaRPCError(.node(code: -32002), "Transaction simulation failed"))
        let answered = FailoverSolanaRPC(endpoints: [refusing, real], options: .init(expectedCluster: nil))
        await #expect(throws: SolanaRPCError(.node(code: -32002), "Transaction simulation failed")) {
            _ = try await answered.sendTransaction("AA==", skipPreflight: false, preflightCommitment: .confirmed)
        }
        #expect(answered.standings[0] == .inService)
        #expect(refusing.calls == 1)

        let garbled = Failing(SolanaRPCError(.invalidResponse, "not JSON-RPC"))
        let failedOver = FailoverSolanaRPC(endpoints: [garbled, real], options: .init(expectedCluster: nil))
        #expect(try await failedOver.blockHeight(commitment: .confirmed) > 0)
        #expect(Self.isOut(failedOver.standings[0]))
        // While it is out, requests go straight to the next node.
        _ = try await failedOver.blockHeight(commitment: .confirmed)
        #expect(garbled.calls == 1)
    }
}
