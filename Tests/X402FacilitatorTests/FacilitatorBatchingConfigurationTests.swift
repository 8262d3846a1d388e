import Foundation
import Testing
import X402

@testable import X402Facilitator

@Suite("Facilitator configuration: batched settlement and coalesced simulation")
struct FacilitatorBatchingConfigurationTests {
    @Test("batching is off and coalescing on by default; both are read from the file")
    func readFromFile() throws {
        let defaults = FacilitatorConfiguration()
        #expect(!defaults.batchSettlements)
        #expect(defaults.coalesceSimulations)
        #expect(defaults.settlementBatchWindowMilliseconds == 50 && defaults.maxSettlementBatch == 32)
        #expect(defaults.simulationWindowMilliseconds == 2 && defaults.maxSimulationBatch == 32)
        let text = """
            {"networks": [{"network": "eip155:84532", "rpcURL": "http://127.0.0.1:8545"}],
             "batchSettlements": true, "settlementBatchWindowMilliseconds": 20, "maxSettlementBatch": 8,
             "coalesceSimulations": false, "simulationWindowMilliseconds": 5, "maxSimulationBatch": 4}
            """
        let c = try FacilitatorConfiguration.parse(Array(text.utf8))
        #expect(c.batchSettlements && c.settlementBatchWindowMilliseconds == 20 && c.maxSettlementBatch == 8)
        #expect(!c.coalesceSimulations && c.simulationWindowMilliseconds == 5 && c.maxSimulationBatch == 4)
        try c.validate()
    }

    @Test("out-of-range windows and batch sizes are refused with their key")
    func ranges() throws {
        var base = FacilitatorConfiguration()
        base.networks = [.init(network: try #require(Network("eip155:84532")), rpcURL: "http://127.0.0.1:8545")]
        let cases: [(String, (inout FacilitatorConfiguration) -> Void)] = [
            ("maxSettlementBatch", { $0.maxSettlementBatch = 0 }),
            ("maxSettlementBatch", { $0.maxSettlementBatch = 33 }),
            ("settlementBatchWindowMilliseconds", { $0.settlementBatchWindowMilliseconds = -1 }),
            ("settlementBatchWindowMilliseconds", { $0.settlementBatchWindowMilliseconds = 5001 }),
            ("maxSimulationBatch", { $0.maxSimulationBatch = 0 }),
            ("simulationWindowMilliseconds", { $0.simulationWindowMilliseconds = 1001 }),
        ]
        for (key, change) in cases {
            var c = base
            change(&c)
            #expect {
                try c.validate()
            } throws: { error in
                guard case .invalidValue(let name, _) = error as? FacilitatorConfigurationError else { return false }
                return name == key
            }
        }
    }

    @Test("stuck transactions are bumped after 60 s by default; the file sets another delay or 0 (never); negative is refused")
    func replaceStuckAfter() throws {
        #expect(FacilitatorConfiguration().replaceStuckAfterSeconds == 60)
        let text = """
            {"networks": [{"network": "eip155:84532", "rpcURL": "http://127.0.0.1:8545"}], "replaceStuckAfterSeconds": 0}
            """
        let c = try FacilitatorConfiguration.parse(Array(text.utf8))
        #expect(c.replaceStuckAfterSeconds == 0)
        try c.validate()
        var negative = c
        negative.replaceStuckAfterSeconds = -1
        #expect {
            try negative.validate()
        } throws: { error in
            guard case .invalidValue(let name, _) = error as? FacilitatorConfigurationError else { return false }
            return name == "replaceStuckAfterSeconds"
        }
    }
}
