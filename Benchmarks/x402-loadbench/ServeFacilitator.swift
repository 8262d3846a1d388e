// `x402-loadbench serve`: the Swift facilitator alone in this process, for measurements that need
// it in a process of its own (its memory under load, read from /proc/PID/status), with the
// loadbench client (`verify --facilitator-url`) in another.
//
//     x402-loadbench serve --devnet-state .devnet-run/NAME/devnet.json --port 18950 [--simulate] [--batch]
//
// The configuration is the one `verify` and `settle` use in process (memory database, abuse limits
// off). Prints `{"url": …, "pid": …}` once listening; runs until killed.

import Foundation
import Hummingbird
import Logging
import X402
import X402EVM
import X402Facilitator

func runServeFacilitator(_ arguments: [String]) async throws {
    var rest = arguments[...]
    var statePath: String?
    var port = 0
    var simulate = false
    var batch = false
    while let flag = rest.popFirst() {
        switch flag {
        case "--devnet-state": statePath = rest.popFirst()
        case "--port": port = rest.popFirst().flatMap { Int($0) } ?? -1
        case "--simulate": simulate = true
        case "--batch": batch = true
        default:
            FileHandle.standardError.write(Data("x402-loadbench serve: unknown option \(flag)\n".utf8))
            exit(64)
        }
    }
    guard let statePath, (0...65535).contains(port) else {
        FileHandle.standardError.write(Data("usage: x402-loadbench serve --devnet-state PATH --port N [--simulate] [--batch]\n".utf8))
        exit(64)
    }
    let state = try DevnetState(path: statePath)
    var configuration = BenchFacilitator.configuration(state, port: port)
    configuration.simulateInVerify = simulate
    configuration.batchSettlements = batch
    configuration.receiptTimeoutSeconds = 120
    let service = try await BenchFacilitator.service(configuration, state: state)
    let pid = ProcessInfo.processInfo.processIdentifier
    let app = service.application { channel in
        FileHandle.standardOutput.write(Data(#"{"url":"http://127.0.0.1:\#(channel.localAddress?.port ?? 0)","pid":\#(pid)}"#.utf8 + [0x0A]))
    }
    try await app.runService(gracefulShutdownSignals: [])
}
