import Foundation
import Testing
import X402

@testable import X402Facilitator

@Suite("Facilitator configuration: several RPC endpoints per network")
struct FacilitatorFailoverConfigurationTests {
    @Test("fallbackRPCURLs is read from the file and checked like rpcURL")
    func fallbacks() throws {
        let text = """
            {"networks": [{"network": "eip155:84532", "rpcURL": "http://127.0.0.1:8545",
                           "fallbackRPCURLs": ["http://127.0.0.1:8546", "https://backup.invalid/rpc"]}]}
            """
        let c = try FacilitatorConfiguration.parse(Array(text.utf8))
        #expect(c.networks.first?.fallbackRPCURLs == ["http://127.0.0.1:8546", "https://backup.invalid/rpc"])
        try c.validate()

        var bad = c
        bad.networks[0].fallbackRPCURLs = ["http://127.0.0.1:8546", "ftp://nope"]
        #expect(
            throws: FacilitatorConfigurationError.invalidValue(
                "networks[0].fallbackRPCURLs[1]", "a fallback RPC URL of eip155:84532 is neither an http(s) URL nor env:NAME")
        ) {
            try bad.validate()
        }
    }

    @Test("a misspelt member next to the fallbacks is refused with its path")
    func unknownMember() throws {
        let text = """
            {"networks": [{"network": "eip155:84532", "rpcURL": "http://127.0.0.1:8545", "fallbackRPCURL": ["http://127.0.0.1:8546"]}]}
            """
        #expect {
            try FacilitatorConfiguration.parse(Array(text.utf8))
        } throws: { error in
            "\(error)".contains("networks[0].fallbackRPCURL")
        }
    }

    @Test("env:NAME stands for an RPC URL held in an environment variable, resolved at start and never quoted")
    func environmentURLs() throws {
        let text = """
            {"networks": [{"network": "eip155:84532", "rpcURL": "env:X402_TEST_RPC",
                           "fallbackRPCURLs": ["http://127.0.0.1:8546", "env:X402_TEST_BACKUP"]}]}
            """
        let c = try FacilitatorConfiguration.parse(Array(text.utf8))
        try c.validate()
        let secret = "https://base-sepolia.example/v2/SECRET-API-KEY"
        #expect(
            try c.resolvedRPCURLs(ofNetworkAt: 0, environment: ["X402_TEST_RPC": secret, "X402_TEST_BACKUP": "http://10.0.0.2:8545\n"])
                == [secret, "http://127.0.0.1:8546", "http://10.0.0.2:8545"])

        // An unset or empty variable, or one that holds no http(s) URL: refused, the value never in the message.
        #expect(
            throws: FacilitatorConfigurationError.invalidValue(
                "networks[0].fallbackRPCURLs[1]", "environment variable X402_TEST_BACKUP (an RPC URL of eip155:84532) is not set")
        ) {
            try c.resolvedRPCURLs(ofNetworkAt: 0, environment: ["X402_TEST_RPC": secret, "X402_TEST_BACKUP": " "])
        }
        do {
            _ = try c.resolvedRPCURLs(ofNetworkAt: 0, environment: ["X402_TEST_RPC": "ftp://SECRET-API-KEY", "X402_TEST_BACKUP": secret])
            Issue.record("accepted an ftp URL")
        } catch {
            #expect(error == .invalidValue("networks[0].rpcURL", "environment variable X402_TEST_RPC does not hold an http(s) URL"))
            #expect(!"\(error)".contains("SECRET"))
        }

        // Malformed names are refused when the file is checked.
        for name in ["env:", "env:1ABC", "env:A-B", "env:A B", "env:" + String(repeating: "A", count: 129)] {
            var bad = c
            bad.networks[0].rpcURL = name
            #expect(throws: FacilitatorConfigurationError.self) { try bad.validate() }
        }
    }
}
