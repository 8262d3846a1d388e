import ArgumentParser
import Foundation
import Testing
import X402Facilitator

@testable import X402CLI

@Suite("facilitator flags: coalesced simulation and batched settlement")
struct FacilitatorBatchingFlagsTests {
    @Test("the flags set the configuration; without them the defaults hold (batching off, coalescing on)")
    func flags() throws {
        let plain = try FacilitatorCommand.Serve.parse(["--network", "eip155:84532=http://127.0.0.1:8545"]).configuration()
        #expect(!plain.batchSettlements && plain.coalesceSimulations)
        let set = try FacilitatorCommand.Serve.parse([
            "--network", "eip155:84532=http://127.0.0.1:8545", "--batch-settlements", "--settlement-batch-window-ms", "20",
            "--max-settlement-batch", "8", "--no-coalesce-simulations", "--simulation-window-ms", "5",
        ]).configuration()
        #expect(set.batchSettlements && set.settlementBatchWindowMilliseconds == 20 && set.maxSettlementBatch == 8)
        #expect(!set.coalesceSimulations && set.simulationWindowMilliseconds == 5)
        #expect(throws: (any Error).self) {
            try FacilitatorCommand.Serve.parse(["--network", "eip155:84532=http://127.0.0.1:8545", "--max-settlement-batch", "64"])
                .configuration()
        }
    }
}
