// A minimal paid API on Vapor 4: `GET /weather` costs $0.01 in USDC, settled by an x402 facilitator.
//
//   X402_PAY_TO=0xYourAddress X402_FACILITATOR=http://127.0.0.1:4020 X402_DEV_TARGETS=1 swift run example-vapor-seller serve --port 8080
//
// X402_PRICE (default $0.01) and X402_NETWORK (default eip155:84532, Base Sepolia) are optional.
#if Vapor
import Foundation
import Vapor
import X402
import X402EVM
import X402HTTP
import X402Vapor

let env = ProcessInfo.processInfo.environment
guard let payTo = env["X402_PAY_TO"], let network = Network(env["X402_NETWORK"] ?? "eip155:84532") else {
    FileHandle.standardError.write(Data("example-vapor-seller: set X402_PAY_TO (optional: X402_NETWORK, X402_PRICE, X402_FACILITATOR)\n".utf8))
    exit(2)
}

var schemes = SchemeRegistry<any SchemeServer>()
schemes.registerExactEVM()
let payments = try X402VaporMiddleware(
    configuration: .init(
        routes: [
            "GET /weather": .exact(
                .text(env["X402_PRICE"] ?? "$0.01"), on: network, payTo: .fixed(payTo),
                description: "Today's weather", mimeType: "application/json")
        ],
        facilitator: HTTPFacilitatorClient(baseURL: env["X402_FACILITATOR"] ?? "http://127.0.0.1:4020"),
        schemes: schemes))

let app = try await Application.make(.detect())
app.http.server.configuration.hostname = "127.0.0.1"
app.middleware.use(payments)
app.get("weather") { _ in
    Response(
        status: .ok, headers: ["Content-Type": "application/json"],
        body: .init(string: #"{"report":{"weather":"sunny","temperature":70}}"#))
}
try await app.execute()
try await app.asyncShutdown()
#else
print("example-vapor-seller: built without the Vapor package trait")
#endif
