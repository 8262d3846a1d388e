// x402-loadbench: HTTP-level load benchmarks.
//
//     X402_DEV_TARGETS=1 swift run -c release x402-loadbench seller [options]   # unpaid 402 and paid path, in-process facilitator
//     X402_DEV_TARGETS=1 swift run -c release x402-loadbench verify [options]   # facilitator /verify against the devnet
//     X402_DEV_TARGETS=1 swift run -c release x402-loadbench settle [options]   # facilitator /settle on the devnet, single or batched
//     X402_DEV_TARGETS=1 swift run -c release x402-loadbench serve [options]    # the Swift facilitator alone (for its RSS under load)
//
// Each case prints req/s and latency percentiles; results and commands live in docs/benchmarks.md.

import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "seller":
    try await runSellerBenchmark(Array(arguments.dropFirst()))
case "verify":
    try await runVerifyBenchmark(Array(arguments.dropFirst()))
case "settle":
    try await runSettleBenchmark(Array(arguments.dropFirst()))
case "serve":
    try await runServeFacilitator(Array(arguments.dropFirst()))
default:
    FileHandle.standardError.write(Data("usage: x402-loadbench seller|verify|settle|serve [options]\n".utf8))
    exit(64)
}
