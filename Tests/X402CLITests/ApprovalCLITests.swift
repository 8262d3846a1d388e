import Foundation
import Testing
import X402
import X402EVM
import X402TestSupport

/// `fetch --probe`, `fetch confirm`, `approvals`, the notify hook, the firewall and per-host
/// limits, through the built `x402` binary against the local paid seller.
@Suite("x402 approval queue CLI")
struct ApprovalCLITests {
    @Test("probe: pre_approved with the seed's JSON shape, nothing signed; confirm pays once; a second confirm pays nothing (exit 9)")
    func probeConfirm() async throws {
        try await BuyerCLITests.withSeller { cli, keyFile, key, base, facilitator in
            let probe = try await cli.run(["fetch", base + "/paid", "--probe", "--json", "--key-file", keyFile])
            #expect(probe.status == 0, "\(probe)")
            let o = try probe.json()
            let id = try #require(o["fetch_id"]?.stringValue)
            #expect(id.hasPrefix("ft_"))
            #expect(o["status"] == "pre_approved")
            #expect(o["url"] == .string(base + "/paid"))
            #expect(o["amount_usdc"] == "0.01")
            #expect(o["fee_usdc"] == "0")
            #expect(o["total_usdc"] == "0.01")
            #expect(o["recipient"] == .string(TestSeller.payTo))
            #expect(o["network"] == "eip155:84532")
            #expect(o["expires_at"]?.stringValue != nil)
            #expect(o["next_step"]?.stringValue?.hasPrefix("confirm") == true)
            #expect(o["confirm_command"]?.stringValue?.hasPrefix("x402 fetch confirm \(id) ") == true)
            #expect(o["paid"] == false)
            #expect(await facilitator.verifies == 0)

            let human = try await cli.run(["fetch", base + "/paid", "--probe", "--key-file", keyFile])
            #expect(human.status == 0, "\(human)")
            #expect(human.stdout.contains("pre_approved  fetch_id ft_"))
            #expect(human.stdout.contains("next: x402 fetch confirm ft_"))

            let otherSite = try await cli.run(["fetch", "confirm", id, "-H", "host: other.example", "--key-file", keyFile])
            #expect(otherSite.status == 64, "\(otherSite)")

            let confirm = try await cli.run(["fetch", "confirm", id, "--json", "--key-file", keyFile])
            #expect(confirm.status == 0, "\(confirm)")
            let c = try confirm.json()
            #expect(c["status"] == "paid")
            #expect(c["body"] == "premium data")
            #expect(c["purchase"]?["status"] == "paid")
            #expect(c["purchase"]?["transaction"]?.stringValue?.isEmpty == false)
            #expect(await facilitator.settled.count == 1)

            let again = try await cli.run(["fetch", "confirm", id, "--json", "--key-file", keyFile])
            #expect(again.status == 9, "\(again)")
            #expect(try again.json()["status"] == "paid")
            #expect(again.stderr.contains("was paid already"))
            #expect(await facilitator.settled.count == 1)

            let history = try await cli.run(["history", "--json", "--key-file", keyFile])
            let events = try #require(try history.json()["approvals"]?.arrayValue)
            let mine = events.filter { $0["fetch_id"] == .string(id) }.compactMap { $0["to"]?.stringValue }
            #expect(mine == ["paid", "paying", "pre_approved"])
            #expect(try history.json()["payments"]?.arrayValue?.count == 1)
            _ = key
        }
    }

    @Test("awaiting approval: the hook gets the purchase on stdin without the key in its environment; approve → confirm pays; deny → never")
    func ownerApproves() async throws {
        try await BuyerCLITests.withSeller { cli, _, key, base, facilitator in
            let hookOut = cli.home.appendingPathComponent("hook.json").path
            let hookEnv = cli.home.appendingPathComponent("hook.env").path
            let hook = "cat > \(hookOut); env > \(hookEnv)"
            let secret = key.withUnsafeSecretBytes { Hex.encode($0) }
            let env = ["X402_PRIVATE_KEY": secret]
            let queued = try await cli.run(["fetch", base + "/medium", "--json", "--notify-command", hook], environment: env)
            #expect(queued.status == 8, "\(queued)")
            let o = try queued.json()
            let id = try #require(o["fetch_id"]?.stringValue)
            #expect(o["status"] == "awaiting_approval")
            #expect(o["amount_usdc"] == "0.5")
            #expect(o["approve_command"] == .string("x402 approvals approve \(id)"))
            #expect(await facilitator.verifies == 0)

            let notified = try JSONValue(parsing: Array(try Data(contentsOf: URL(fileURLWithPath: hookOut))))
            #expect(notified["event"] == "purchase.awaiting_approval")
            #expect(notified["purchase"]?["fetch_id"] == .string(id))
            let hookEnvironment = try String(contentsOfFile: hookEnv, encoding: .utf8)
            #expect(!hookEnvironment.contains(secret))
            #expect(!hookEnvironment.contains("X402_PRIVATE_KEY"))

            let early = try await cli.run(["fetch", "confirm", id], environment: env)
            #expect(early.status == 9, "\(early)")
            #expect(early.stderr.contains("awaiting the owner's approval"))

            let list = try await cli.run(["approvals", "list", "--json"])
            #expect(try list.json()["purchases"]?.arrayValue?.map { $0["fetch_id"] } == [.string(id)])
            let approve = try await cli.run(["approvals", "approve", id, "--json"])
            #expect(approve.status == 0, "\(approve)")
            #expect(try approve.json()["status"] == "approved")

            let paid = try await cli.run(["fetch", "confirm", id], environment: env)
            #expect(paid.status == 0, "\(paid)")
            #expect(paid.stdout == "medium data")
            #expect(await facilitator.settled.count == 1)
            // The confirmation recorded which payment it sent; a finished purchase has nothing to recover.
            let shown = try await cli.run(["approvals", "list", "--all", "--json"])
            let record = try shown.json()["purchases"]?.arrayValue?.first { $0["fetch_id"] == .string(id) }?["spend_record"]?.stringValue
            #expect(record.flatMap(UUID.init(uuidString:)) != nil, "\(shown)")
            let recover = try await cli.run(["approvals", "recover", id])
            #expect(recover.status == 9, "\(recover)")
            #expect(recover.stderr.contains("cannot recover"))

            let second = try await cli.run(["fetch", base + "/medium", "--json"], environment: env)
            let other = try #require(try second.json()["fetch_id"]?.stringValue)
            let deny = try await cli.run(["approvals", "deny", other, "--reason", "not today"])
            #expect(deny.status == 0, "\(deny)")
            #expect(deny.stdout.contains("denied"))
            let refused = try await cli.run(["fetch", "confirm", other], environment: env)
            #expect(refused.status == 9, "\(refused)")
            #expect(await facilitator.settled.count == 1)
            let unknown = try await cli.run(["approvals", "approve", "ft_unknown"])
            #expect(unknown.status == 9)
        }
    }

    @Test("fetch confirm: a probe confirmed after the owner lowered the threshold is refused and failed; a second probe queues")
    func probeUnderTighterPolicy() async throws {
        try await BuyerCLITests.withSeller { cli, keyFile, _, base, facilitator in
            let probe = try await cli.run(["fetch", base + "/paid", "--probe", "--json", "--key-file", keyFile])
            let id = try #require(try probe.json()["fetch_id"]?.stringValue)
            #expect(try probe.json()["status"] == "pre_approved")
            let set = try await cli.run(["limits", "set", "--approval-threshold", "0.001"])
            #expect(set.status == 0, "\(set)")

            let confirm = try await cli.run(["fetch", "confirm", id, "--json", "--key-file", keyFile])
            #expect(confirm.status == 3, "\(confirm)")
            let c = try confirm.json()
            #expect(c["refusal"]?["rule"] == "approvalThreshold")
            #expect(c["purchase"]?["status"] == "failed")
            #expect(await facilitator.verifies == 0)

            let again = try await cli.run(["fetch", base + "/paid", "--probe", "--json", "--key-file", keyFile])
            #expect(again.status == 8, "\(again)")
            #expect(try again.json()["status"] == "awaiting_approval")
        }
    }

    @Test("firewall on: an unlisted recipient is queued; a trusted host pays; a denied host is refused; per-host limit refuses past it")
    func firewallAndHostLimits() async throws {
        try await BuyerCLITests.withSeller { cli, keyFile, _, base, facilitator in
            let set = try await cli.run(["limits", "set", "--firewall", "on", "--json"])
            #expect(set.status == 0, "\(set)")
            let queued = try await cli.run(["fetch", base + "/paid", "--json", "--key-file", keyFile])
            #expect(queued.status == 8, "\(queued)")
            #expect(try queued.json()["reasons"]?.arrayValue?.first?.stringValue?.contains("firewall") == true)

            _ = try await cli.run(["limits", "set", "--trust-host", "127.0.0.1", "--host-limit", "127.0.0.1=0.015"])
            let paid = try await cli.run(["fetch", base + "/paid", "--key-file", keyFile])
            #expect(paid.status == 0, "\(paid)")
            let overLimit = try await cli.run(["fetch", base + "/paid", "--json", "--key-file", keyFile])
            #expect(overLimit.status == 3, "\(overLimit)")
            #expect(try overLimit.json()["refusal"]?["rule"] == "hostBudget")

            let show = try await cli.run(["limits", "show", "--json", "--key-file", keyFile])
            let s = try show.json()
            #expect(s["limits"]?["firewall"]?["enabled"] == true)
            #expect(s["limits"]?["firewall"]?["allowHosts"] == ["127.0.0.1"])
            let host = s["hosts"]?.arrayValue?.first
            #expect(host?["host"] == "127.0.0.1")
            #expect(host?["spent24h"] == "0.01")
            #expect(host?["remaining24h"] == "0.005")
            let text = try await cli.run(["limits", "show"])
            #expect(text.stdout.contains("firewall:             on"))

            _ = try await cli.run(["limits", "set", "--deny-host", "127.0.0.1"])
            let denied = try await cli.run(["fetch", base + "/paid", "--probe", "--json", "--key-file", keyFile])
            #expect(denied.status == 3, "\(denied)")
            #expect(try denied.json()["refusal"]?["rule"] == "hostDenied")
            #expect(await facilitator.settled.count == 1)
        }
    }
}
