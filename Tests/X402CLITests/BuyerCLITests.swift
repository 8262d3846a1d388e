import Foundation
import Testing
import X402
import X402EVM
import X402TestSupport

/// The built `x402` binary against a local paid Hummingbird seller (`X402Middleware`, the real
/// `ExactEVMServer`, a scripted facilitator that checks the signed authorization).
@Suite("x402 buyer CLI")
struct BuyerCLITests {
    /// A buyer key in a 0600 file, a private home, and a seller that knows the buyer.
    static func withSeller(
        _ body: @Sendable (_ cli: CLI, _ keyFile: String, _ key: PrivateKey, _ base: String, _ facilitator: ScriptedFacilitator) async throws -> Void
    ) async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let key = PrivateKey.random()
        let keyFile = try cli.writeKey(key)
        try await TestSeller.run(buyer: key.address) { base, facilitator in
            try await body(cli, keyFile, key, base, facilitator)
        }
    }

    @Test("quote prints dollars, atomic units, network name and recipient; signs nothing")
    func quote() async throws {
        try await Self.withSeller { cli, keyFile, _, base, facilitator in
            let human = try await cli.run(["quote", base + "/paid", "--key-file", keyFile])
            #expect(human.status == 0, "\(human)")
            #expect(human.stdout.contains("costs $0.01 (10000 atomic units of USDC)"), "\(human)")
            #expect(human.stdout.contains("Base Sepolia (eip155:84532)"))
            #expect(human.stdout.contains(TestSeller.payTo))
            #expect(human.stdout.contains("within your limits"))

            let json = try await cli.run(["quote", base + "/dear", "--json"])
            #expect(json.status == 3, "\(json)")
            let object = try json.json()
            #expect(object["status"] == "payment_required")
            let option = try #require(object["options"]?.arrayValue?.first)
            #expect(option["amount"] == "2000000")
            #expect(option["amountDecimal"] == "2")
            #expect(option["payTo"] == .string(TestSeller.payTo))
            #expect(option["network"] == "eip155:84532")
            #expect(option["refusal"]?["rule"] == "perPaymentCap")
            #expect(await facilitator.verifies == 0)
        }
    }

    @Test("fetch pays: body on stdout, price/network/recipient/tx on stderr, exit 0")
    func fetchPaidHuman() async throws {
        try await Self.withSeller { cli, keyFile, key, base, facilitator in
            let result = try await cli.run(["fetch", base + "/paid", "--key-file", keyFile])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout == "premium data")
            let tx = try #require(await facilitator.settled.first)
            #expect(result.stderr.contains("paid $0.01 (10000 atomic units of USDC) on Base Sepolia (eip155:84532)"), "\(result)")
            #expect(result.stderr.contains("recipient    \(TestSeller.payTo)"))
            #expect(result.stderr.contains("transaction  \(tx)"))
            #expect(result.stderr.contains(key.address.checksummed))
        }
    }

    @Test("fetch --json: one object with stable keys; POST body with -X/-d/-H")
    func fetchPaidJSON() async throws {
        try await Self.withSeller { cli, keyFile, key, base, facilitator in
            let result = try await cli.run(["fetch", base + "/paid", "--key-file", keyFile, "--json"])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.split(separator: "\n").count == 1)
            let o = try result.json()
            #expect(o["status"] == "paid")
            #expect(o["url"] == .string(base + "/paid"))
            #expect(o["httpStatus"] == 200)
            #expect(o["paid"] == true)
            #expect(o["payment"]?["amount"] == "10000")
            #expect(o["payment"]?["amountDecimal"] == "0.01")
            #expect(o["payment"]?["network"] == "eip155:84532")
            #expect(o["payment"]?["asset"] == "0x036CbD53842c5426634e7929541eC2318f3dCF7e")
            #expect(o["payment"]?["payTo"] == .string(TestSeller.payTo))
            #expect(o["payment"]?["scheme"] == "exact")
            #expect(o["settlement"]?["success"] == true)
            #expect(o["settlement"]?["transaction"] == .string(try #require(await facilitator.settled.first)))
            #expect(o["settlement"]?["payer"] == .string(key.address.checksummed))
            #expect(o["body"] == "premium data")
            #expect(o["refusal"] == .null)
            #expect(o["exitCode"] == 0)

            let post = try await cli.run([
                "fetch", base + "/echo", "-X", "POST", "-d", "hello", "-H", "Content-Type: text/plain", "--key-file", keyFile, "--json",
            ])
            #expect(post.status == 0, "\(post)")
            #expect(try post.json()["body"] == "echo: hello")
            #expect(try post.json()["payment"]?["amount"] == "20000")
        }
    }

    @Test("a free resource exits 2 and pays nothing; an HTTP error without 402 exits 6")
    func free() async throws {
        try await Self.withSeller { cli, keyFile, _, base, facilitator in
            let result = try await cli.run(["fetch", base + "/free", "--key-file", keyFile])
            #expect(result.status == 2, "\(result)")
            #expect(result.stdout == "free data")
            #expect(result.stderr.contains("no payment needed"))
            let json = try await cli.run(["fetch", base + "/free", "--key-file", keyFile, "--json"])
            #expect(json.status == 2)
            #expect(try json.json()["status"] == "free")
            #expect(try json.json()["paid"] == false)
            let missing = try await cli.run(["fetch", base + "/missing", "--key-file", keyFile, "--json"])
            #expect(missing.status == 6, "\(missing)")
            #expect(try missing.json()["httpStatus"] == 404)
            #expect(await facilitator.verifies == 0)
        }
    }

    @Test("refused by the per-payment cap and by --max: exit 3, the rule and the numbers, nothing signed")
    func refusedByCap() async throws {
        try await Self.withSeller { cli, keyFile, _, base, facilitator in
            let result = try await cli.run(["fetch", base + "/dear", "--key-file", keyFile, "--yes"])
            #expect(result.status == 3, "\(result)")
            #expect(result.stdout.isEmpty)
            #expect(result.stderr.contains("perPaymentCap"))
            #expect(result.stderr.contains("payment of $2.00 exceeds the per-payment cap of $1.00"), "\(result)")

            let json = try await cli.run(["fetch", base + "/paid", "--key-file", keyFile, "--max", "0.005", "--json"])
            #expect(json.status == 3, "\(json)")
            let o = try json.json()
            #expect(o["status"] == "refused")
            #expect(o["paid"] == false)
            #expect(o["refusal"]?["rule"] == "perPaymentCap")
            #expect(o["refusal"]?["amount"] == "0.01")
            #expect(o["refusal"]?["cap"] == "0.005")
            #expect(await facilitator.verifies == 0)
        }
    }

    @Test("above the approval threshold: queued awaiting approval without a terminal (exit 8, nothing signed), paid with --yes")
    func approval() async throws {
        try await Self.withSeller { cli, keyFile, _, base, facilitator in
            let denied = try await cli.run(["fetch", base + "/medium", "--key-file", keyFile])
            #expect(denied.status == 8, "\(denied)")
            #expect(denied.stdout.contains("awaiting_approval"))
            #expect(denied.stdout.contains("$0.50 is above the approval threshold of $0.10"), "\(denied)")
            #expect(denied.stdout.contains("x402 approvals approve ft_"))
            #expect(await facilitator.verifies == 0)

            let approved = try await cli.run(["fetch", base + "/medium", "--key-file", keyFile, "--yes"])
            #expect(approved.status == 0, "\(approved)")
            #expect(approved.stdout == "medium data")
            #expect(await facilitator.settled.count == 1)
        }
    }

    @Test("the server rejects the payment (settlement fails): exit 4, reason shown, the ledger keeps it counted (unconfirmed)")
    func rejected() async throws {
        try await Self.withSeller { cli, keyFile, _, base, _ in
            let result = try await cli.run(["fetch", base + "/reject", "--key-file", keyFile, "--json"])
            #expect(result.status == 4, "\(result)")
            let o = try result.json()
            #expect(o["status"] == "rejected")
            #expect(o["paid"] == false)
            #expect(o["httpStatus"] == 402)
            #expect(o["error"] == "insufficient_funds")
            #expect(o["body"] != "never delivered")
            #expect(result.stderr.contains("rejected by the server: insufficient_funds"))

            let history = try await cli.run(["history", "--key-file", keyFile, "--json"])
            let record = try #require(try history.json()["payments"]?.arrayValue?.first)
            // The server's failure receipt is not proof: it holds a live signature (was `failed` before F7).
            #expect(record["status"] == "unconfirmed")
            #expect(record["failureReason"] == "insufficient_funds")
            let show = try await cli.run(["limits", "show", "--key-file", keyFile, "--json"])
            #expect(try show.json()["spent24h"] == "0.01", "\(show)")
        }
    }

    @Test("nothing listening: exit 5")
    func networkError() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let keyFile = try cli.writeKey(.random())
        let result = try await cli.run(["fetch", "http://127.0.0.1:1/paid", "--key-file", keyFile, "--json", "--timeout", "5"])
        #expect(result.status == 5, "\(result)")
        #expect(try result.json()["status"] == "network_error")
        let quote = try await cli.run(["quote", "http://127.0.0.1:1/paid"])
        #expect(quote.status == 5, "\(quote)")
    }

    @Test("the key comes from a file, X402_PRIVATE_KEY or --key-env; never from argv (and is never echoed)")
    func keySources() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let key = PrivateKey.random()
        let hex = key.withUnsafeSecretBytes { Hex.encode($0) }
        let keyFile = try cli.writeKey(key)
        let address = key.address.checksummed

        let fromFile = try await cli.run(["wallet", "address", "--key-file", keyFile])
        #expect(fromFile.status == 0, "\(fromFile)")
        #expect(fromFile.stdout == address + "\n")
        let fromDefaultEnv = try await cli.run(["wallet", "address"], environment: ["X402_PRIVATE_KEY": hex])
        #expect(fromDefaultEnv.stdout == address + "\n", "\(fromDefaultEnv)")
        let fromNamedEnv = try await cli.run(["wallet", "address", "--key-env", "MY_BUYER_KEY", "--json"], environment: ["MY_BUYER_KEY": hex])
        #expect(try fromNamedEnv.json()["address"] == .string(address))
        let none = try await cli.run(["wallet", "address"])
        #expect(none.status == 1, "\(none)")
        #expect(none.stderr.contains("no wallet key"))

        for flag in ["--key", "--private-key"] {
            let onArgv = try await cli.run(["fetch", "http://127.0.0.1:1/x", flag, hex])
            #expect(onArgv.status == 64, "\(onArgv)")
            #expect(onArgv.stderr.contains("never accepted on the command line"))
            #expect(!onArgv.stderr.contains(String(hex.dropFirst(2))) && !onArgv.stdout.contains(String(hex.dropFirst(2))))
        }
        for output in [fromFile, fromDefaultEnv, fromNamedEnv] {
            #expect(!output.stdout.contains(String(hex.dropFirst(2))) && !output.stderr.contains(String(hex.dropFirst(2))))
        }
    }

    @Test("history lists the payments with amounts and transactions; a shared ledger enforces the 24 h budget across runs")
    func historyAndBudget() async throws {
        try await Self.withSeller { cli, keyFile, key, base, facilitator in
            let set = try await cli.run(["limits", "set", "--daily-budget", "0.025"])
            #expect(set.status == 0, "\(set)")
            for _ in 0..<2 {
                let paid = try await cli.run(["fetch", base + "/paid", "--key-file", keyFile])
                #expect(paid.status == 0, "\(paid)")
            }
            let over = try await cli.run(["fetch", base + "/paid", "--key-file", keyFile, "--json"])
            #expect(over.status == 3, "\(over)")
            let refusal = try over.json()["refusal"]
            #expect(refusal?["rule"] == "budget")
            #expect(refusal?["spent"] == "0.02")
            #expect(refusal?["budget"] == "0.025")

            let history = try await cli.run(["history", "--key-file", keyFile, "--json"])
            #expect(history.status == 0, "\(history)")
            let payments = try #require(try history.json()["payments"]?.arrayValue)
            #expect(payments.count == 2)
            let transactions = await facilitator.settled
            #expect(Set(payments.compactMap { $0["transaction"]?.stringValue }) == Set(transactions))
            for p in payments {
                #expect(p["status"] == "settled")
                #expect(p["amount"] == "10000")
                #expect(p["usd"] == "0.01")
                #expect(p["payTo"] == .string(TestSeller.payTo))
                #expect(p["wallet"] == .string(key.address.checksummed))
                #expect(p["payer"] == .string(key.address.checksummed))
                #expect(p["resource"] == .string(base + "/paid"))
            }
            let human = try await cli.run(["history", "--key-file", keyFile])
            #expect(human.stdout.contains("settled   $0.01 (10000 atomic units of USDC)"), "\(human)")
            for tx in transactions { #expect(human.stdout.contains("transaction  \(tx)")) }
            let show = try await cli.run(["limits", "show", "--key-file", keyFile])
            #expect(show.stdout.contains("spent in the last 24 hours by \(key.address.checksummed): $0.02 ($0.005 left)"), "\(show)")
        }
    }

    @Test("limits set/show round trip through policy.json; a denied recipient is refused")
    func limitsRoundTrip() async throws {
        try await Self.withSeller { cli, keyFile, _, base, facilitator in
            let initial = try await cli.run(["limits", "show", "--json"])
            #expect(try initial.json()["defaults"] == true)
            #expect(try initial.json()["limits"]?["perPaymentCap"] == "1")

            let set = try await cli.run([
                "limits", "set", "--cap", "0.25", "--approval-threshold", "none", "--daily-budget", "3",
                "--deny-recipient", TestSeller.payTo, "--allow-network", "eip155:84532", "--allow-asset", "USDC",
            ])
            #expect(set.status == 0, "\(set)")
            let policyFile = cli.home.appendingPathComponent("policy.json").path
            #expect(FileManager.default.fileExists(atPath: policyFile))

            let show = try await cli.run(["limits", "show", "--json"])
            let limits = try #require(try show.json()["limits"])
            #expect(try show.json()["defaults"] == false)
            #expect(limits["perPaymentCap"] == "0.25")
            #expect(limits["approvalThreshold"] == .null)
            #expect(limits["dailyBudget"] == "3")
            #expect(limits["deniedRecipients"] == [.string(TestSeller.payTo)])
            #expect(limits["allowedNetworks"] == ["eip155:84532"])
            #expect(limits["allowedAssets"] == ["USDC"])
            let human = try await cli.run(["limits", "show"])
            #expect(human.stdout.contains("per-payment cap:      $0.25"), "\(human)")

            let denied = try await cli.run(["fetch", base + "/paid", "--key-file", keyFile, "--json"])
            #expect(denied.status == 3)
            #expect(try denied.json()["refusal"]?["rule"] == "recipientDenied")
            #expect(await facilitator.verifies == 0)

            let cleared = try await cli.run(["limits", "set", "--clear-denied", "--cap", "none"])
            #expect(cleared.status == 0)
            let paid = try await cli.run(["fetch", base + "/medium", "--key-file", keyFile])
            #expect(paid.status == 0, "\(paid)")

            let bad = try await cli.run(["limits", "set", "--cap", "lots"])
            #expect(bad.status == 64)
        }
    }

    @Test("wallet new writes a 0600 key file and prints only the address; never overwrites without --force")
    func walletNew() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let created = try await cli.run(["wallet", "new", "--json"])
        #expect(created.status == 0, "\(created)")
        let o = try created.json()
        let path = cli.home.appendingPathComponent("key").path
        #expect(o["keyFile"] == .string(path))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let key = try PrivateKey(contentsOfFile: path)
        #expect(o["address"] == .string(key.address.checksummed))
        let secret = key.withUnsafeSecretBytes { Hex.encode($0, prefix: false) }
        #expect(!created.stdout.contains(secret) && !created.stderr.contains(secret))

        // The default key location is used without flags.
        let address = try await cli.run(["wallet", "address"])
        #expect(address.stdout == key.address.checksummed + "\n", "\(address)")

        let again = try await cli.run(["wallet", "new"])
        #expect(again.status == 1, "\(again)")
        #expect(again.stderr.contains("already exists"))
        #expect(try PrivateKey(contentsOfFile: path).address == key.address)

        let other = cli.home.appendingPathComponent("sub/dir/other.key").path
        let second = try await cli.run(["wallet", "new", "--out", other])
        #expect(second.status == 0, "\(second)")
        #expect(second.stdout.contains("created a new wallet 0x"))
        #expect(((try FileManager.default.attributesOfItem(atPath: other))[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }
}
