import Foundation
import Testing
import X402
import X402EVMRPC
import X402Solana
import X402SolanaRPC
import X402TestSupport

/// `SolanaJSONRPCClient` against a real Solana JSON-RPC server (Tools/svmnet, `X402_SVMNET_URL`);
/// in CI a missing server fails these tests instead of skipping them.
enum SVMNetEnvironment {
    static var url: String? {
        ProcessInfo.processInfo.environment["X402_SVMNET_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }
    static var shouldRun: Bool { url != nil || TestEnvironment.isCI }
}

@Suite(.enabled(if: SVMNetEnvironment.shouldRun, "svmnet not running: start Tools/svmnet/start.sh and set X402_SVMNET_URL"))
struct SolanaJSONRPCClientTests {
    static var url: String? { SVMNetEnvironment.url }

    /// The devnet USDC mint the svmnet creates (SPL Token, 6 decimals).
    static let usdc = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"

    func client() throws -> SolanaJSONRPCClient {
        let url = try #require(Self.url, "X402_SVMNET_URL is not set (CI requires the svmnet)")
        return SolanaJSONRPCClient(configuration: .init(url: url, timeout: .seconds(10), maxRetries: 1, backoffBase: .milliseconds(20)))
    }

    @Test("reads: blockhash, block height, genesis hash, rent, mint account (owner, decimals), missing account")
    func reads() async throws {
        let rpc = try client()
        let blockhash = try await rpc.latestBlockhash(commitment: .confirmed)
        let height = try await rpc.blockHeight(commitment: .confirmed)
        #expect(blockhash.lastValidBlockHeight > height)
        #expect(try await rpc.genesisHash() == "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG")
        #expect(try await rpc.minimumBalanceForRentExemption(dataLength: 165) > 0)

        let mint = try #require(try await rpc.accountInfo(Self.usdc, commitment: .confirmed))
        #expect(mint.owner == "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
        #expect(mint.data.count == 82 && mint.data[44] == 6)

        let missing = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"
        #expect(try await rpc.accountInfo(missing, commitment: .confirmed) == nil)
        let both = try await rpc.accountInfos([Self.usdc, missing], commitment: .confirmed)
        #expect(both.count == 2)
        // The same mint account; its supply (bytes 36..<44) moves while other tests create token accounts.
        let again = try #require(both.first ?? nil)
        #expect(again.owner == mint.owner && again.data.count == mint.data.count)
        #expect(again.data.prefix(36) == mint.data.prefix(36) && again.data.dropFirst(44) == mint.data.dropFirst(44))
        #expect(both.last == .some(nil), "\(both)")
        #expect(try await rpc.tokenAccountBalance(missing, commitment: .confirmed) == nil)
    }

    @Test("an unknown signature has no status; a malformed transaction is the node's -32602 error")
    func errors() async throws {
        let rpc = try client()
        let unknown = String(repeating: "1", count: 64)
        #expect(try await rpc.signatureStatuses([unknown]) == [nil])
        await #expect {
            _ = try await rpc.simulateTransaction("AAAA", sigVerify: true, commitment: .confirmed)
        } throws: { error in
            guard let error = error as? SolanaRPCError, case .node(let code) = error.code else { return false }
            return code == -32602
        }
        await #expect {
            _ = try await rpc.sendTransaction("AAAA", skipPreflight: false, preflightCommitment: .confirmed)
        } throws: { error in
            guard let error = error as? SolanaRPCError, case .node = error.code else { return false }
            return true
        }
    }

    @Test("an unreachable node is a transport error that names no URL")
    func unreachable() async throws {
        let port = try freeLoopbackPort()
        let rpc = SolanaJSONRPCClient(configuration: .init(url: "http://127.0.0.1:\(port)", timeout: .seconds(2), maxRetries: 0))
        await #expect {
            _ = try await rpc.latestBlockhash(commitment: .confirmed)
        } throws: { error in
            guard let error = error as? SolanaRPCError else { return false }
            return error.code == .transport && !error.description.contains("127.0.0.1")
        }
    }
}
