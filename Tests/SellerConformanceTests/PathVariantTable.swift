import Foundation
import Testing
import X402
import X402TestSupport

/// One request variant and the statuses each seller may answer it with.
struct Variant: Sendable, CustomTestStringConvertible {
    var name: String
    var method: String
    var target: String
    var headers: [(String, String)] = []
    /// Statuses every seller may answer.
    var expect: Set<Int>
    /// The gateway's statuses when they differ (it drops override headers before pricing).
    var gateway: Set<Int>?
    var testDescription: String { "\(name): \(method) \(target)" }

    func expected(for kind: SellerKind) -> Set<Int> { kind == .gateway ? gateway ?? expect : expect }
}

/// The shared table: members of each class of path, method and header trick, all sent unpaid.
/// Whatever the seller, none may produce a paid body or reach a paid handler without settlement.
let unpaidVariants: [Variant] = [
    // Benign spellings of a paid path: charged.
    Variant(name: "plain", method: "GET", target: "/premium", expect: [402]),
    Variant(name: "trailing slash", method: "GET", target: "/premium/", expect: [402]),
    Variant(name: "duplicate leading slash", method: "GET", target: "//premium", expect: [402]),
    Variant(name: "duplicate inner slash", method: "GET", target: "/api//x", expect: [402]),
    Variant(name: "query", method: "GET", target: "/premium?x=1&y=%2e%2e", expect: [402]),
    Variant(name: "upper case", method: "GET", target: "/PREMIUM", expect: [402]),
    Variant(name: "mixed case, trailing slash", method: "GET", target: "/Premium/", expect: [402]),
    Variant(name: "encoded unreserved", method: "GET", target: "/%70remium", expect: [402]),
    Variant(name: "lower-case hex", method: "GET", target: "/prem%69um", expect: [402]),
    Variant(name: "wildcard root", method: "GET", target: "/api", expect: [402]),
    Variant(name: "wildcard root slash", method: "GET", target: "/api/", expect: [402]),
    Variant(name: "wildcard nested", method: "GET", target: "/api/a/b", expect: [402]),
    Variant(name: "parameter", method: "GET", target: "/files/a.txt", expect: [402]),
    // Dot segments, raw and encoded: refused.
    Variant(name: "trailing dot segment", method: "GET", target: "/premium/.", expect: [400]),
    Variant(name: "trailing dot segment slash", method: "GET", target: "/premium/./", expect: [400]),
    Variant(name: "dot-dot", method: "GET", target: "/free/../premium", expect: [400]),
    Variant(name: "dot-dot above root", method: "GET", target: "/../premium", expect: [400]),
    Variant(name: "encoded dot-dot", method: "GET", target: "/free/%2e%2e/premium", expect: [400]),
    Variant(name: "upper encoded dot-dot", method: "GET", target: "/free/%2E%2E/premium", expect: [400]),
    Variant(name: "half-encoded dot-dot", method: "GET", target: "/free/.%2e/premium", expect: [400]),
    Variant(name: "encoded trailing dot segment", method: "GET", target: "/premium/%2e", expect: [400]),
    Variant(name: "dot in wildcard", method: "GET", target: "/api/./report", expect: [400]),
    Variant(name: "dot-dot out of a free path into a wildcard", method: "GET", target: "/free/../api/x", expect: [400]),
    Variant(name: "double-encoded dot-dot", method: "GET", target: "/free/%252e%252e/premium", expect: [400]),
    // Encoded separators: refused when a reading is paid.
    Variant(name: "encoded slash dot-dot", method: "GET", target: "/free%2F..%2Fpremium", expect: [400]),
    Variant(name: "dot-dot encoded slash", method: "GET", target: "/free/..%2Fpremium", expect: [400]),
    Variant(name: "encoded backslash dot-dot", method: "GET", target: "/free%5C..%5Cpremium", expect: [400]),
    // (Vapor's URL parser refuses a raw backslash and routes the request to `/`.)
    Variant(name: "raw backslash dot-dot", method: "GET", target: "/free\\..\\premium", expect: [400, 404]),
    Variant(name: "encoded leading slash", method: "GET", target: "/%2Fpremium", expect: [400]),
    Variant(name: "trailing encoded slash", method: "GET", target: "/premium%2F", expect: [400]),
    Variant(name: "encoded slash in parameter", method: "GET", target: "/files/sub%2Fsecret.txt", expect: [400]),
    Variant(name: "encoded backslash in parameter", method: "GET", target: "/files/sub%5Csecret.txt", expect: [400]),
    Variant(name: "parameter escaping upwards", method: "GET", target: "/files/..%2F..%2Fpremium", expect: [400]),
    // `;` parameters and trailing dots or spaces (Tomcat, IIS): refused.
    Variant(name: "semicolon parameter", method: "GET", target: "/premium;jsessionid=x", expect: [400]),
    Variant(name: "semicolon suffix", method: "GET", target: "/premium;.css", expect: [400]),
    Variant(name: "semicolon dot-dot", method: "GET", target: "/premium/..;/premium", expect: [400]),
    Variant(name: "semicolon then dot-dot", method: "GET", target: "/free;/../premium", expect: [400]),
    Variant(name: "trailing dot", method: "GET", target: "/premium.", expect: [400]),
    Variant(name: "trailing encoded dot", method: "GET", target: "/premium%2e", expect: [400]),
    Variant(name: "trailing encoded space", method: "GET", target: "/premium%20", expect: [400]),
    // Control characters and malformed escapes: refused (Vapor's URL parser turns a malformed
    // escape into `/`, which is free and not found).
    Variant(name: "NUL", method: "GET", target: "/premium%00", expect: [400]),
    Variant(name: "line feed", method: "GET", target: "/premium%0a", expect: [400]),
    Variant(name: "CR LF", method: "GET", target: "/premium%0d%0a", expect: [400]),
    Variant(name: "line feed inside a wildcard route", method: "GET", target: "/api%0A/x", expect: [400]),
    Variant(name: "tab", method: "GET", target: "/premium%09", expect: [400]),
    Variant(name: "DEL", method: "GET", target: "/premium%7F", expect: [400]),
    Variant(name: "invalid escape", method: "GET", target: "/premium%zz", expect: [400, 404]),
    Variant(name: "truncated escape", method: "GET", target: "/premium%", expect: [400, 404]),
    Variant(name: "invalid UTF-8", method: "GET", target: "/premium%ff", expect: [400]),
    // Other target forms.
    Variant(name: "fragment", method: "GET", target: "/premium#x", expect: [400, 402]),
    Variant(name: "absolute form", method: "GET", target: "http://evil.example/premium", expect: [402, 404]),
    Variant(name: "absolute form, upper-case scheme", method: "GET", target: "HTTP://evil.example/premium/", expect: [402, 404]),
    Variant(name: "overlong", method: "GET", target: "/premium/" + String(repeating: "a", count: 5000), expect: [414, 400, 431]),
    // Methods.
    Variant(name: "HEAD", method: "HEAD", target: "/premium", expect: [402]),
    Variant(name: "HEAD, case and slash", method: "HEAD", target: "/PREMIUM/", expect: [402]),
    Variant(name: "HEAD on a wildcard", method: "HEAD", target: "/api/x", expect: [402]),
    // (Vapor closes the connection without an answer: status 0.)
    Variant(name: "lower-case method", method: "get", target: "/premium", expect: [402, 400, 404, 405, 0]),
    Variant(name: "OPTIONS", method: "OPTIONS", target: "/premium", expect: [204]),
    Variant(
        name: "CORS preflight", method: "OPTIONS", target: "/api/x",
        headers: [("Origin", "https://site.example"), ("Access-Control-Request-Method", "GET")], expect: [204]),
    Variant(name: "OPTIONS with an override", method: "OPTIONS", target: "/premium", headers: [("X-HTTP-Method-Override", "GET")], expect: [204]),
    // Method overrides: priced as the overriding method in process; dropped by the gateway.
    Variant(
        name: "X-HTTP-Method-Override", method: "POST", target: "/premium", headers: [("X-HTTP-Method-Override", "GET")], expect: [402],
        gateway: [200]),
    Variant(name: "X-HTTP-Method", method: "POST", target: "/premium", headers: [("X-HTTP-Method", "GET")], expect: [402], gateway: [200]),
    Variant(name: "X-Method-Override", method: "POST", target: "/premium", headers: [("X-Method-Override", "GET")], expect: [402], gateway: [200]),
    Variant(
        name: "lower-case override", method: "POST", target: "/premium", headers: [("x-http-method-override", "get")], expect: [402],
        gateway: [200]),
    Variant(name: "_method parameter", method: "POST", target: "/premium?_method=GET", expect: [402]),
    Variant(name: "encoded _method parameter", method: "POST", target: "/premium?a=1&_%6Dethod=get", expect: [402]),
    // URL-override headers on a free path.
    Variant(name: "X-Original-URL", method: "GET", target: "/free", headers: [("X-Original-URL", "/premium")], expect: [200]),
    Variant(name: "X-Rewrite-URL", method: "GET", target: "/free", headers: [("X-Rewrite-URL", "/premium")], expect: [200]),
    // Free paths stay free.
    Variant(name: "free", method: "GET", target: "/free", expect: [200]),
    Variant(name: "free POST on a paid path", method: "POST", target: "/premium", expect: [200]),
    Variant(name: "free path with a dot segment", method: "GET", target: "/free/./", expect: [200, 404]),
]

/// Variants that are paid for: a paid body must come with a settlement, and only then.
let paidVariants: [Variant] = [
    Variant(name: "plain", method: "GET", target: "/premium", expect: [200]),
    Variant(name: "query", method: "GET", target: "/premium?x=1", expect: [200]),
    Variant(name: "trailing slash", method: "GET", target: "/premium/", expect: [200]),
    Variant(name: "duplicate slash", method: "GET", target: "//premium", expect: [200]),
    Variant(name: "HEAD", method: "HEAD", target: "/premium", expect: [200]),
    Variant(name: "wildcard root", method: "GET", target: "/api", expect: [200]),
    Variant(name: "wildcard root slash", method: "GET", target: "/api/", expect: [200]),
    Variant(name: "wildcard nested", method: "GET", target: "/api/a/b", expect: [200]),
    Variant(name: "parameter", method: "GET", target: "/files/a.txt", expect: [200]),
    // The routers are case-sensitive and do not decode literal segments: charged, not found, not settled.
    Variant(name: "upper case", method: "GET", target: "/PREMIUM", expect: [200, 404]),
    Variant(name: "encoded unreserved", method: "GET", target: "/%70remium", expect: [200, 404]),
]

@Suite("Seller conformance: what is charged is exactly what is served")
struct SellerConformanceTests {
    @Test(arguments: SellerKind.allCases)
    func unpaidVariantsNeverReachPaidContent(kind: SellerKind) async throws {
        try await withSeller(kind) { seller in
            for variant in unpaidVariants {
                let response = try await rawRequest(port: seller.port, method: variant.method, target: variant.target, headers: variant.headers)
                #expect(variant.expected(for: kind).contains(response.status), "\(kind) \(variant.testDescription): status \(response.status)")
                #expect(!response.body.contains(paidMarker), "\(kind) \(variant.testDescription): paid body served unpaid")
                if response.status == 402 {
                    #expect(response.header("PAYMENT-REQUIRED") != nil, "\(kind) \(variant.testDescription): 402 without an offer")
                }
                if response.status == 204 {
                    #expect(response.header("Allow")?.contains("GET") == true, "\(kind) \(variant.testDescription): no Allow")
                }
                if variant.headers.contains(where: { $0.0 == "Origin" }) {
                    #expect(response.header("Access-Control-Allow-Origin") == "*", "\(kind) \(variant.testDescription)")
                }
                #expect(await seller.served.paid.isEmpty, "\(kind) \(variant.testDescription): a paid handler ran unpaid")
            }
            #expect(await seller.facilitator.settles == 0)
            #expect(await seller.facilitator.verifies == 0)
        }
    }

    @Test(arguments: SellerKind.allCases)
    func paidBodiesComeOnlyWithASettlementAndPrivateCaching(kind: SellerKind) async throws {
        try await withSeller(kind) { seller in
            for (index, variant) in paidVariants.enumerated() {
                let unpaid = try await rawRequest(port: seller.port, method: variant.method, target: variant.target)
                #expect(unpaid.status == 402, "\(kind) \(variant.testDescription): unpaid status \(unpaid.status)")
                let required = try #require(unpaid.header("PAYMENT-REQUIRED"), "\(kind) \(variant.testDescription)")
                let payment = try signature(for: required, nonce: "0x\(String(index + 1, radix: 16))")
                let servedBefore = await seller.served.paid.count
                let settledBefore = await seller.facilitator.settles
                let paid = try await rawRequest(
                    port: seller.port, method: variant.method, target: variant.target, headers: [("PAYMENT-SIGNATURE", payment)])
                let servedNow = await seller.served.paid.count - servedBefore
                let settledNow = await seller.facilitator.settles - settledBefore
                let label = "\(kind) \(variant.testDescription): status \(paid.status)"
                #expect(variant.expect.contains(paid.status), "\(label)")
                #expect(servedNow == settledNow, "\(label): served \(servedNow) paid bodies, settled \(settledNow)")
                if paid.body.contains(paidMarker) || paid.status == 200 {
                    #expect(settledNow == 1 && paid.header("PAYMENT-RESPONSE") != nil, "\(label): paid body without settlement")
                    let cache = paid.headerValues("Cache-Control").joined(separator: ", ").lowercased()
                    #expect(cache.contains("private"), "\(label): Cache-Control \(cache)")
                    #expect(!cache.contains("public") && !cache.contains("max-age"), "\(label): Cache-Control \(cache)")
                    #expect(paid.header("Surrogate-Control") == nil, "\(label)")
                    #expect(paid.headerValues("Vary").joined(separator: ",").lowercased().contains("payment-signature"), "\(label)")
                    #expect(variant.method == "HEAD" || paid.body.contains(paidMarker), "\(label): body \(paid.body.prefix(80))")
                } else {
                    #expect(settledNow == 0, "\(label): settled without serving")
                }
            }
        }
    }

    /// The routes a framework serves for sure must be served once paid, by every seller.
    @Test(arguments: SellerKind.allCases)
    func canonicalPaidRequestsAreServed(kind: SellerKind) async throws {
        try await withSeller(kind) { seller in
            for (index, target) in ["/premium", "/premium/", "/api/x", "/files/a.txt"].enumerated() {
                let unpaid = try await rawRequest(port: seller.port, method: "GET", target: target)
                let required = try #require(unpaid.header("PAYMENT-REQUIRED"))
                let paid = try await rawRequest(
                    port: seller.port, method: "GET", target: target,
                    headers: [("PAYMENT-SIGNATURE", try signature(for: required, nonce: "0x\(index + 100)"))])
                #expect(paid.status == 200 && paid.body.hasPrefix(paidMarker), "\(kind) \(target): \(paid.status) \(paid.body.prefix(60))")
            }
            #expect(await seller.facilitator.settles == 4)
            #expect(await seller.served.paid.count == 4)
        }
    }
}
