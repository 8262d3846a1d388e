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
                "networks[0].fallbackRPCURLs[1]", "a fallback RPC URL of eip155:84532 is not an http(s) URL")
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
}
