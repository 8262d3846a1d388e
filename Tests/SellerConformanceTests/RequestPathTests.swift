import HTTPTypes
import Testing
import X402

@Suite("Request path canonicalisation, route resolution and paid caching")
struct RequestPathTests {
    @Test(arguments: [
        ("/premium", "/premium", false),
        ("/premium/", "/premium/", false),
        ("//premium//x", "/premium/x", false),
        ("/%70remium", "/premium", false),
        ("/a%2fb", "/a%2Fb", true),
        ("/a/./b/../c", "/a/c", true),
        ("/a/%2E%2e/c", "/c", true),
        ("/a/b/..", "/a/", true),
        ("/..", "/", true),
        ("/a;x=1", "/a;x=1", true),
        ("/a\\b", "/a%5Cb", true),
        ("/caf\u{e9}", "/caf%C3%A9", false),
        ("/x%7e%41", "/x~A", false),
        ("http://host.example/p?q", "/p", false),
        ("/premium%20", "/premium%20", true),
    ])
    func canonicalForm(raw: String, canonical: String, ambiguous: Bool) throws {
        let path = try RequestPath(raw)
        #expect(path.canonical == canonical)
        #expect(path.isAmbiguous == ambiguous, "\(path.alternativeReadings)")
    }

    @Test(arguments: [
        ("/premium%0a", RequestPathError.controlCharacter),
        ("/premium\n", .controlCharacter),
        ("/premium%00x", .controlCharacter),
        ("/premium%zz", .malformedPercentEncoding),
        ("/premium%4", .malformedPercentEncoding),
        ("/premium%ff", .invalidUTF8),
        ("/premium#top", .fragment),
        ("premium", .notOriginForm),
        ("", .notOriginForm),
        ("/" + String(repeating: "a", count: 5000), .tooLong(5001)),
    ])
    func malformedPathsAreRefused(raw: String, error: RequestPathError) {
        #expect(throws: error) { _ = try RequestPath(raw) }
    }

    let routes: RouteTable = [
        "GET /premium": .exact("$0.01", on: .baseSepolia, payTo: .fixed("0x209693Bc6afc0C5328bA36FaF03C514EF312287C")),
        "GET /api/*": .exact("$0.02", on: .baseSepolia, payTo: .fixed("0x209693Bc6afc0C5328bA36FaF03C514EF312287C")),
        "GET /files/:name": .exact("$0.03", on: .baseSepolia, payTo: .fixed("0x209693Bc6afc0C5328bA36FaF03C514EF312287C")),
        "POST /upload/[id].json": .exact("$0.04", on: .baseSepolia, payTo: .fixed("0x209693Bc6afc0C5328bA36FaF03C514EF312287C")),
    ]

    func resolution(_ method: String, _ path: String, _ headers: [String: String] = [:]) -> String {
        guard let method = HTTPRequest.Method(method) else { return "invalid method \(method)" }
        var fields = HTTPFields()
        for (name, value) in headers {
            guard let name = HTTPField.Name(name) else { return "invalid field name \(name)" }
            fields.append(HTTPField(name: name, value: value))
        }
        return switch routes.resolve(ServerRequest(method: method, path: path, headers: fields)) {
        case .free: "free"
        case .paid(let pattern, _, let parameters):
            "paid \(pattern.path)" + parameters.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        case .refused(let error): "refused \(error.status.code)"
        case .preflight(let allow): "preflight \(allow.joined(separator: ","))"
        }
    }

    @Test func resolvesEachClassOfVariant() {
        #expect(resolution("GET", "/premium") == "paid /premium")
        #expect(resolution("HEAD", "/PREMIUM/") == "paid /premium")
        #expect(resolution("GET", "/api") == "paid /api/*")
        #expect(resolution("GET", "/api/") == "paid /api/*")
        #expect(resolution("GET", "/apix") == "free")
        #expect(resolution("GET", "/files/a%20b.txt") == "paid /files/:name name=a b.txt")
        #expect(resolution("POST", "/upload/7.json") == "paid /upload/[id].json id=7")
        #expect(resolution("GET", "/files/a%2Fb") == "refused 400")
        #expect(resolution("GET", "/free/../premium") == "refused 400")
        #expect(resolution("GET", "/free/%2e%2e/api/x") == "refused 400")
        #expect(resolution("GET", "/premium;a=b") == "refused 400")
        #expect(resolution("GET", "/premium.") == "refused 400")
        #expect(resolution("GET", "/free/%252e%252e/premium") == "refused 400")
        #expect(resolution("GET", "/free/./x") == "free", "ambiguous, but no reading is paid")
        #expect(resolution("GET", "/free;a=b") == "free")
        #expect(resolution("GET", "/premium%0a") == "refused 400")
        #expect(resolution("POST", "/premium") == "free")
        #expect(resolution("POST", "/premium", ["X-HTTP-Method-Override": "GET"]) == "paid /premium")
        #expect(resolution("PUT", "/premium", ["X-Method-Override": "head"]) == "paid /premium")
        #expect(resolution("POST", "/premium?_method=GET") == "paid /premium")
        #expect(resolution("POST", "/premium?_method=G%20T") == "free")
        #expect(resolution("OPTIONS", "/premium") == "preflight GET,HEAD,OPTIONS")
        #expect(resolution("OPTIONS", "/free") == "free")
        #expect(resolution("DELETE", "/premium;x", ["X-HTTP-Method": "GET"]) == "refused 400")
    }

    @Test func routePatternsRejectCapturesThatCannotBeToldApart() {
        #expect(throws: RouteConfigurationError.self) { _ = try RoutePattern("/a/[x][y]") }
        #expect(throws: RouteConfigurationError.self) { _ = try RoutePattern("/a/*[y]") }
        #expect(throws: RouteConfigurationError.self) { _ = try RoutePattern("/a/:") }
        #expect(throws: RouteConfigurationError.self) { _ = try RoutePattern("/a/[x]-[y]") }
        #expect(throws: RouteConfigurationError.self) { _ = try RoutePattern("/a/[x]*") }
    }

    @Test func wildcardMatchingStaysBoundedOnHostilePaths() throws {
        let pattern = try RoutePattern("GET /*a*b*c*d*e*f")
        let long = "/" + String(repeating: "a/", count: 2000)
        #expect(pattern.match(method: "GET", path: long) == nil)
        let params = try RoutePattern("GET /*/v[n].json/*/:name/done")
        #expect(params.match(method: "GET", path: "/" + String(repeating: "v1.json/", count: 500)) == nil)
        #expect(params.match(method: "GET", path: "/a/b/v12.json/c/file/done") == ["n": "12", "name": "file"])
    }

    @Test func paidResponsesAreCachedPrivatelyOnly() throws {
        #expect(PaidResponseCaching.cacheControl(merging: []) == "private")
        #expect(PaidResponseCaching.cacheControl(merging: ["public, max-age=3600, s-maxage=86400, immutable"]) == "private")
        #expect(PaidResponseCaching.cacheControl(merging: ["no-store"]) == "no-store, private")
        #expect(
            PaidResponseCaching.cacheControl(merging: ["no-cache=\"Set-Cookie\"", "Private=\"X\", must-revalidate"])
                == "no-cache, private, must-revalidate")
        #expect(PaidResponseCaching.vary(merging: ["Accept-Encoding"]) == "Accept-Encoding, PAYMENT-SIGNATURE, X-PAYMENT")
        #expect(PaidResponseCaching.vary(merging: ["*"]) == "*")
        let surrogateControl = try #require(HTTPField.Name("Surrogate-Control"))
        var headers: HTTPFields = [.cacheControl: "public, max-age=60", surrogateControl: "max-age=600", .vary: "Accept"]
        headers.mergePaymentRelease([.paymentResponse: "x", .cacheControl: "private", .vary: "PAYMENT-SIGNATURE, X-PAYMENT"])
        #expect(headers[.cacheControl] == "private")
        #expect(headers[surrogateControl] == nil)
        #expect(headers[.vary] == "Accept, PAYMENT-SIGNATURE, X-PAYMENT")
        #expect(headers[.paymentResponse] == "x")
    }
}
