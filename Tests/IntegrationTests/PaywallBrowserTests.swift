import Foundation
import Hummingbird
import NIOCore
import Testing
import X402
import X402EVM
import X402Hummingbird

/// The HTML paywall in a real browser (headless Chromium): a navigation to a paid route gets a
/// page that says what it costs, on which network and how to pay; with an EIP-1193 wallet in the
/// page, the page's own script signs (`eth_signTypedData_v4`), retries with `PAYMENT-SIGNATURE`
/// and shows the paid content, settled on the devnet.
@Suite("Paywall in headless Chromium", .chromium)
struct PaywallBrowserTests {
    static let premium =
        #"<!DOCTYPE html><html><head><title>Premium</title></head><body><h1 id="premium">Premium article: the answer is 42</h1></body></html>"#

    /// Clicks the page's pay button once the page has loaded, as a user would.
    static let autoClick = #"<script>window.addEventListener("load", function () { document.getElementById("pay").click(); });</script>"#

    /// A test EIP-1193 provider: `request()` forwards to the test server's wallet endpoint, which
    /// signs with the Swift signer and a devnet key. Test-only; never part of the product page.
    static let testProvider = #"""
        <script>
        window.ethereum = {
          isTestWallet: true,
          request: async function (args) {
            const response = await fetch("/test-wallet", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(args) });
            const answer = await response.json();
            if (answer.error) throw new Error(answer.error);
            return answer.result;
          },
        };
        </script>
        """#

    /// Records each wallet method the page called.
    actor WalletLog {
        private(set) var calls: [String] = []
        func record(_ method: String) { calls.append(method) }
    }

    /// The seller: the paid `GET /premium` behind `X402Middleware` with `paywall`, plus the test
    /// wallet endpoint when a signing key is given.
    static func startSeller(
        facilitator: any FacilitatorClient, payTo: String, network: Network, description: String, paywall: Paywall,
        wallet: (key: PrivateKey, token: EthereumAddress, log: WalletLog)? = nil
    ) async throws -> (RunningApp, HitCounter) {
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.registerExactEVM()
        let hits = HitCounter()
        let router = Router()
        router.add(
            middleware: try X402Middleware(
                configuration: .init(
                    routes: ["GET /premium": .exact("$0.01", on: network, payTo: .fixed(payTo), description: description, mimeType: "text/html")],
                    facilitator: facilitator, schemes: schemes, paywall: paywall)))
        router.get("premium") { _, _ -> Response in
            await hits.hit()
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: premium)))
        }
        if let wallet {
            let chainID = network.chainID ?? 0
            router.post("test-wallet") { request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                let call = try JSONValue(parsing: body.readableBytesView)
                let method = call["method"]?.stringValue ?? ""
                await wallet.log.record(method)
                let answer: JSONValue
                do {
                    answer = ["result": try Self.walletAnswer(method, params: call["params"], key: wallet.key, token: wallet.token, chainID: chainID)]
                } catch {
                    answer = ["error": .string(String(describing: error))]
                }
                return Response(
                    status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: answer.serialized())))
            }
        }
        return (await RunningApp.start(router), hits)
    }

    struct WalletRefusal: Error, CustomStringConvertible {
        let description: String
    }

    /// The wallet's side of EIP-1193 for the methods the paywall uses. It signs only a
    /// `TransferWithAuthorization` from its own address on the expected chain and token.
    static func walletAnswer(_ method: String, params: JSONValue?, key: PrivateKey, token: EthereumAddress, chainID: UInt64) throws -> JSONValue {
        switch method {
        case "eth_requestAccounts", "eth_accounts":
            return [.string(key.address.checksummed)]
        case "eth_chainId":
            return .string("0x" + String(chainID, radix: 16))
        case "eth_signTypedData_v4":
            guard let list = params?.arrayValue, list.count == 2, let from = list[0].stringValue, let text = list[1].stringValue else {
                throw WalletRefusal(description: "params must be [address, typedDataJSON]")
            }
            guard (try? EthereumAddress(from, validatingChecksum: false)) == key.address else {
                throw WalletRefusal(description: "unknown account \(from)")
            }
            let typed = try TypedData(json: text)
            guard typed.primaryType == "TransferWithAuthorization" else { throw WalletRefusal(description: "refusing to sign \(typed.primaryType)") }
            guard let contract = typed.domain["verifyingContract"]?.stringValue, (try? EthereumAddress(contract, validatingChecksum: false)) == token
            else {
                throw WalletRefusal(description: "unexpected token")
            }
            return .string(try typed.sign(with: key).hexString)
        default:
            throw WalletRefusal(description: "unsupported method \(method)")
        }
    }

    /// A facilitator that is never reached (the page test pays nothing).
    static var idleFacilitator: FacilitatorEngine { FacilitatorEngine(registry: SchemeRegistry<any SchemeFacilitator>()) }

    @Test("a browser navigation gets the paywall page: price, network, recipient, how to pay; inserted values stay text")
    func pageShowsTermsAndEscapes() async throws {
        let payTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
        let hostile = #"Weather </script><img src=x onerror="document.body.setAttribute('data-pwned','1')"> & more"#
        let (app, hits) = try await Self.startSeller(
            facilitator: Self.idleFacilitator, payTo: payTo, network: .baseSepolia, description: hostile,
            paywall: Paywall(appName: "Premium <news>", headHTML: Self.autoClick))
        defer { Task { await app.stop() } }

        let dom = try await Chromium.dumpDOM(app.url + "/premium", budget: .seconds(5))
        #expect(dom.contains("<title>Premium &lt;news&gt;</title>"), "\(dom.prefix(600))")
        #expect(dom.contains("$0.01 (USDC)"))
        #expect(dom.contains("base-sepolia (eip155:84532)"))
        #expect(dom.contains(payTo))
        #expect(dom.contains("eth_signTypedData_v4") && dom.contains("PAYMENT-SIGNATURE"))
        // The hostile description is shown as text; its markup never became elements or ran.
        #expect(dom.contains("Weather &lt;/script&gt;&lt;img src=x"))
        #expect(!dom.contains(#"data-pwned="1""#))
        #expect(!dom.contains("<img"))
        // The page's script ran (the click) and reports that no wallet is present; nothing was served.
        #expect(dom.contains("No browser wallet (EIP-1193) found."))
        #expect(!dom.contains("Premium article"))
        #expect(await hits.count == 0)
    }

    @Test("the page's own script pays with an EIP-1193 wallet: signs, retries with PAYMENT-SIGNATURE, shows the paid content", .devnet)
    func pagePaysThroughWallet() async throws {
        let devnet = try await Devnet.shared()
        async let facilitatorAccount = devnet.freshAccount()
        async let payerAccount = devnet.freshAccount(eth: .zero, usdc: 1_000_000)
        let payer = try await payerAccount
        let network = try #require(Network(devnet.network))
        let chain = EVMFacilitatorChain(
            network: network, client: devnet.client, signers: [try await facilitatorAccount.key], receiptPollInterval: .milliseconds(50))
        let facilitator = FacilitatorEngine(schemes: [(ExactEVMFacilitator(chains: [chain]), [network])])
        let payee = devnet.randomAddress()
        let log = WalletLog()
        let (app, hits) = try await Self.startSeller(
            facilitator: facilitator, payTo: payee.checksummed, network: network, description: "Premium article",
            paywall: Paywall(headHTML: Self.testProvider + Self.autoClick), wallet: (payer.key, devnet.token, log))
        defer { Task { await app.stop() } }

        let dom = try await Chromium.dumpDOM(app.url + "/premium", budget: .seconds(30))
        // The page replaced itself with the paid HTML.
        #expect(dom.contains(#"<h1 id="premium">Premium article: the answer is 42</h1>"#), "\(dom.prefix(1500))")
        #expect(!dom.contains("Connect wallet and pay"))
        #expect(await log.calls == ["eth_requestAccounts", "eth_chainId", "eth_signTypedData_v4"])
        #expect(await hits.count == 1)
        // Settled on the chain: exactly the price moved.
        #expect(try await devnet.usdcBalance(of: payee) == 10_000)
        #expect(try await devnet.usdcBalance(of: payer.address) == 990_000)
    }
}
