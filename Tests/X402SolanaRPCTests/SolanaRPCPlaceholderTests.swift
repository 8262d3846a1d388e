import Testing
import X402Solana

@Suite struct SolanaRPCPlaceholderTests {
    @Test func commitmentNames() {
        #expect(SolanaCommitment.confirmed.rawValue == "confirmed")
    }
}
