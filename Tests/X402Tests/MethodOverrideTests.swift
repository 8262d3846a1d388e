import HTTPTypes
import Testing

@testable import X402

@Suite("Method overrides: candidate methods")
struct MethodOverrideTests {
    @Test("own method first, override names in order, duplicates and invalid names dropped")
    func order() {
        var headers = HTTPFields()
        headers[MethodOverride.headerNames[0]] = "post, get, PoSt, x-1, DELETE"
        let request = ServerRequest(method: .get, path: "/a", query: "_method=put&_method=delete", headers: headers)
        #expect(MethodOverride.candidates(for: request) == ["GET", "POST", "DELETE", "PUT"])
    }

    @Test("thousands of distinct names in one header: every one kept once, a paid method at the end too")
    func manyNames() {
        // Distinct three-letter names: the dedup must stay linear, and nothing after them is lost.
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        var names: [String] = []
        for a in letters { for b in letters { for c in letters.prefix(8) { names.append(String([a, b, c])) } } }
        var headers = HTTPFields()
        headers[MethodOverride.headerNames[1]] = (names + names + ["POST"]).joined(separator: ",")
        let request = ServerRequest(method: .get, path: "/a", headers: headers)
        let methods = MethodOverride.candidates(for: request)
        #expect(methods.count == 1 + names.count + 1)
        #expect(methods.first == "GET" && methods.last == "POST")
        #expect(Set(methods).count == methods.count)
    }
}
