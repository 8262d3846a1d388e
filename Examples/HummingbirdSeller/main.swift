// A minimal paid API: `GET /weather` costs $0.01 in USDC, settled through an x402 facilitator.
//
//   X402_DEV_TARGETS=1 swift run example-hummingbird-seller --port 8080 --pay-to 0xYourAddress \
//       --facilitator http://127.0.0.1:4020 [--price '$0.01'] [--network eip155:84532] [--v1]
//
// Solana: `--network solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1 --pay-to <base58 wallet>` (the
// facilitator must serve that network; its fee payer is copied from /supported).
//
// Each option can also come from the environment: --pay-to ↔ X402_PAY_TO, and so on.
// `--v1` makes a legacy seller: its 402 is the v1 JSON body, answered by `X-PAYMENT`.
import Foundation
import Hummingbird
import X402
import X402EVM
import X402HTTP
import X402Hummingbird
import X402Solana

/// `--name value` from the command line, else `X402_NAME` from the environment, else `fallback`.
func option(_ name: String, _ fallback: String? = nil) -> String {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: "--\(name)"), i + 1 < args.count { return args[i + 1] }
    let variable = "X402_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
    if let value = ProcessInfo.processInfo.environment[variable] ?? fallback { return value }
    usage("missing --\(name) (or \(variable))")
}

func usage(_ message: String) -> Never {
    FileHandle.standardError.write(Data("example-hummingbird-seller: \(message)\n".utf8))
    exit(2)
}

let port = Int(option("port", "8080")) ?? 8080
guard let network = Network(option("network", "eip155:84532")) else { usage("--network must be a CAIP-2 id") }

var schemes = SchemeRegistry<any SchemeServer>()
schemes.registerExactEVM()
schemes.registerExactSVM()
var configuration = ResourceServer.Configuration(
    routes: [
        "GET /weather": .exact(
            .text(option("price", "$0.01")), on: network, payTo: .fixed(option("pay-to")),
            description: "Today's weather", mimeType: "application/json")
    ],
    facilitator: HTTPFacilitatorClient(baseURL: option("facilitator", "http://127.0.0.1:4020")),
    schemes: schemes)
if CommandLine.arguments.contains("--v1") { configuration.unpaidOfferVersion = .v1 }

let router = Router()
router.add(middleware: try X402Middleware(configuration: configuration))
router.get("weather") { _, _ in
    Response(
        status: .ok, headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(string: #"{"report":{"weather":"sunny","temperature":70}}"#)))
}
router.get("health") { _, _ in "ok" }

let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
