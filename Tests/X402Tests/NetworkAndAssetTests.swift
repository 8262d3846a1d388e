import Testing

@testable import X402

@Suite("Networks, patterns and assets")
struct NetworkAndAssetTests {
    @Test(
        "CAIP-2 identifiers are validated",
        arguments: [
            ("eip155:8453", true), ("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", true), ("cloudflare:402", true),
            ("eip155", false), (":1", false), ("ei:1", false), ("EIP155:1", false), ("eip155:", false), ("eip155:1:2", false),
            ("eip155:a b", false), ("eip155:" + String(repeating: "1", count: 65), false),
        ])
    func validation(_ text: String, _ valid: Bool) {
        #expect((Network(text) != nil) == valid)
    }

    @Test("chain ids come from eip155 references only")
    func chainIDs() {
        #expect(Network("eip155:84532")?.chainID == 84532)
        #expect(Network("eip155:0x1")?.chainID == nil)
        #expect(Network("eip155:01")?.chainID == nil)
        #expect(Network.solanaDevnet.chainID == nil)
        #expect(Network.eip155(8453) == .base)
    }

    @Test("every v1 name maps to CAIP-2 and back", arguments: LegacyNetworkName.all.map(\.name))
    func legacyNames(_ name: String) throws {
        let network = try #require(LegacyNetworkName.network(for: name))
        #expect(network.legacyName == name)
        #expect(Network(identifierOrLegacyName: name) == network)
    }

    @Test("the spec's legacy table")
    func legacyTable() {
        #expect(LegacyNetworkName.network(for: "base-sepolia") == .eip155(84532))
        #expect(LegacyNetworkName.network(for: "skale-base-sepolia") == .eip155(324_705_682))
        #expect(LegacyNetworkName.network(for: "solana-devnet") == .solanaDevnet)
        #expect(LegacyNetworkName.network(for: "nope") == nil)
    }

    @Test("one table: Solana devnet has the spec's id and its display name")
    func knownNetworkTable() {
        #expect(Network.solanaDevnet.identifier == "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1")
        #expect(Network.solanaDevnet.humanDescription == "Solana Devnet (solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1)")
        #expect(KnownNetwork.describe("solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1") == "Solana Devnet (solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1)")
        #expect(KnownNetwork.describe("eip155:84532") == "Base Sepolia (eip155:84532)")
        #expect(KnownNetwork.describe("eip155:999999") == "eip155:999999")
        #expect(KnownNetwork.describe("base-sepolia") == "base-sepolia")
        #expect(Network.baseSepolia.publicRPCURL == "https://sepolia.base.org")
        #expect(Network.solanaDevnet.publicRPCURL == "https://api.devnet.solana.com")
        // Each network appears once.
        #expect(Set(KnownNetwork.all.map(\.network)).count == KnownNetwork.all.count)
    }

    @Test("patterns match namespaces or exact networks")
    func patterns() {
        #expect(NetworkPattern.evm.matches(.base))
        #expect(!NetworkPattern.evm.matches(.solanaDevnet))
        #expect(NetworkPattern("eip155:*")?.description == "eip155:*")
        #expect(NetworkPattern("eip155:8453")?.isExact == true)
        #expect(NetworkPattern("eip155:8453")?.matches(.baseSepolia) == false)
        #expect(NetworkPattern("*") == nil)
        #expect(NetworkPattern("EIP:*") == nil)
    }

    @Test("default stablecoins carry the right EIP-712 domain")
    func assets() throws {
        let base = try #require(AssetRegistry.standard.defaultAsset(for: .base))
        #expect(base.eip712Name == "USD Coin")
        #expect(base.requirementsExtra == ["name": "USD Coin", "version": "2"])
        let sepolia = try #require(AssetRegistry.standard.defaultAsset(for: .baseSepolia))
        #expect(sepolia.eip712Name == "USDC")
        #expect(sepolia.address == "0x036CbD53842c5426634e7929541eC2318f3dCF7e")
        let mega = try #require(AssetRegistry.standard.defaultAsset(for: .eip155(4326)))
        #expect(mega.decimals == 18)
        #expect(mega.requirementsExtra == ["assetTransferMethod": "permit2", "name": "MegaUSD", "version": "1"])
        #expect(AssetRegistry.standard.defaultAsset(for: .eip155(999_999)) == nil)
        #expect(AssetRegistry.standard.asset(address: "0x036cbd53842c5426634e7929541ec2318f3dcf7e", on: .baseSepolia) != nil)
    }
}
