import Foundation
import HTTPTypes
import Testing
import X402TestSupport

@testable import X402

@Suite struct BazaarTests {
    static let weather = BazaarDeclaration.query(
        example: ["city": "Paris"], schema: ["properties": ["city": ["type": "string"]]], output: .json(["temp": 18]))

    /// Spec §1.5: the GET example exactly as a TS server emits it after enrichment (member order
    /// included, compared as serialized JSON).
    @Test func theGETDeclarationIsTheSpecExample() throws {
        let expected = try JSONValue(
            parsing: Array(
                """
                {
                  "info": {
                    "input": { "type": "http", "method": "GET", "queryParams": { "city": "Paris" } },
                    "output": { "type": "json", "example": { "temp": 18 } }
                  },
                  "schema": {
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "type": "object",
                    "properties": {
                      "input": {
                        "type": "object",
                        "properties": {
                          "type": { "type": "string", "const": "http" },
                          "method": { "type": "string", "enum": ["GET"] },
                          "queryParams": { "type": "object", "properties": { "city": { "type": "string" } } }
                        },
                        "required": ["type", "method"],
                        "additionalProperties": false
                      },
                      "output": { "type": "object", "properties": { "type": { "type": "string" }, "example": { "type": "object" } }, "required": ["type"] }
                    },
                    "required": ["input"]
                  }
                }
                """.utf8))
        let emitted = Self.weather.enriched(method: "GET")
        #expect(emitted.serializedString() == expected.serializedString())
        #expect(emitted["routeTemplate"] == nil)
        try BazaarSchema.validate(emitted["info"]!, against: emitted["schema"]!)
    }

    /// Before enrichment the declaration is what the reference `declare_discovery_extension`
    /// builds: no method in `info`, every query method in the schema's enum.
    @Test func theUnenrichedDeclarationHasNoMethod() {
        let d = Self.weather.declaration
        #expect(d["info"]?["input"] == ["type": "http", "queryParams": ["city": "Paris"]])
        #expect(d["schema"]?["properties"]?["input"]?["properties"]?["method"]?["enum"] == ["GET", "HEAD", "DELETE"])
        // Without an input schema the query parameters are described by an empty property list.
        #expect(
            BazaarDeclaration.query().declaration["schema"]?["properties"]?["input"]?["properties"]?["queryParams"]
                == ["type": "object", "properties": [:]])
    }

    @Test func aBodyDeclaration() throws {
        let d = BazaarDeclaration.body(
            .json, example: ["name": "Ada"], schema: ["type": "object", "properties": ["name": ["type": "string"]], "required": ["name"]],
            output: .json(["id": "1"]))
        let emitted = d.enriched(method: "POST")
        #expect(
            emitted["info"]?["input"]?.serializedString()
                == #"{"type":"http","method":"POST","bodyType":"json","body":{"name":"Ada"}}"#)
        let input = emitted["schema"]?["properties"]?["input"]
        #expect(input?["required"] == ["type", "method", "bodyType", "body"])
        #expect(input?["properties"]?["bodyType"]?["enum"] == ["json", "form-data", "text"])
        #expect(input?["properties"]?["method"]?["enum"] == ["POST"])
        try d.validate(method: "POST", routeParameters: [])
        try BazaarDeclaration.body(.text, example: "hello").validate(method: "PUT", routeParameters: [])
    }

    /// Spec §1.3: a parameterised route gets a colon template beside `info` and its values in
    /// `info.input.pathParams`; `pathParams` is allowed by the schema.
    @Test func routeTemplates() {
        #expect(Bazaar.routeTemplate(for: "/weather") == nil)
        #expect(Bazaar.routeTemplate(for: "/users/[userId]") == "/users/:userId")
        #expect(Bazaar.routeTemplate(for: "/users/:userId/files/[name].json") == "/users/:userId/files/:name.json")
        #expect(Bazaar.routeTemplate(for: "/files/*/raw/*") == "/files/:var1/raw/:var2")
        #expect(Bazaar.templateParameters("/users/:userId/files/:name.json") == ["userId", "name"])

        let emitted = BazaarDeclaration.query().enriched(method: "GET", routeTemplate: "/users/:userId", pathParams: ["userId": "42"])
        #expect(emitted["routeTemplate"] == "/users/:userId")
        #expect(emitted["info"]?["input"]?["pathParams"] == ["userId": "42"])
        #expect(emitted["schema"]?["properties"]?["input"]?["properties"]?["pathParams"] == ["type": "object"])
    }

    @Test func malformedDeclarationsAreRefused() {
        #expect(throws: BazaarDeclarationError.methodRequired) { try Self.weather.validate(method: nil, routeParameters: []) }
        #expect(throws: BazaarDeclarationError.methodMismatch(method: "POST", allowed: Bazaar.queryMethods)) {
            try Self.weather.validate(method: "POST", routeParameters: [])
        }
        #expect(throws: BazaarDeclarationError.methodMismatch(method: "GET", allowed: Bazaar.bodyMethods)) {
            try BazaarDeclaration.body().validate(method: "GET", routeParameters: [])
        }
        #expect(throws: BazaarDeclarationError.bodyExampleMismatch("text", "object")) {
            try BazaarDeclaration.body(.text, example: ["a": 1]).validate(method: "POST", routeParameters: [])
        }
        #expect(throws: BazaarDeclarationError.unknownPathParameter("userId")) {
            try BazaarDeclaration.query(pathParams: ["properties": ["userId": ["type": "string"]]]).validate(method: "GET", routeParameters: ["id"])
        }
        #expect(throws: BazaarDeclarationError.unknownPathParameter("slug")) {
            try BazaarDeclaration.query(pathParams: ["required": ["slug"]]).validate(method: "GET", routeParameters: [])
        }
        #expect(throws: BazaarDeclarationError.externalReference("https://evil.example/schema.json")) {
            try BazaarDeclaration.query(schema: ["properties": ["city": ["$ref": "https://evil.example/schema.json"]]]).validate(
                method: "GET", routeParameters: [])
        }
        // The example does not match the declared schema.
        #expect(throws: BazaarDeclarationError.self) {
            try BazaarDeclaration.query(example: ["city": 7], schema: ["properties": ["city": ["type": "string"]]]).validate(
                method: "GET", routeParameters: [])
        }
        #expect(throws: BazaarDeclarationError.self) {
            try BazaarDeclaration.query(example: ["country": "FR"], schema: ["properties": ["city": ["type": "string"]], "required": ["city"]])
                .validate(
                    method: "GET", routeParameters: [])
        }
        #expect(throws: BazaarDeclarationError.self) {
            try BazaarDeclaration.query(output: .json(["temp": 18], schema: ["properties": ["temp": ["type": "string"]]])).validate(
                method: "GET", routeParameters: [])
        }
        // A path parameter declared as an integer can never match (path values are strings).
        #expect(throws: BazaarDeclarationError.self) {
            try BazaarDeclaration.query(pathParams: ["properties": ["id": ["type": "integer"]]]).validate(method: "GET", routeParameters: ["id"])
        }
        let huge = JSONValue.string(String(repeating: "x", count: Bazaar.maximumSectionBytes))
        #expect(throws: BazaarDeclarationError.tooLarge("output")) {
            try BazaarDeclaration.query(output: .json(huge)).validate(method: "GET", routeParameters: [])
        }
        // Good ones pass, HEAD and DELETE included.
        for method in ["GET", "HEAD", "DELETE"] { #expect(throws: Never.self) { try Self.weather.validate(method: method, routeParameters: []) } }
        #expect(throws: Never.self) {
            try BazaarDeclaration.query(pathParams: ["properties": ["id": ["type": "string"]], "required": ["id"]]).validate(
                method: "GET", routeParameters: ["id"])
        }
    }

    @Test func theSchemaSubset() throws {
        let schema: JSONValue = [
            "type": "object", "required": ["a"], "additionalProperties": false,
            "properties": [
                "a": ["type": "string", "enum": ["x", "y"]], "n": ["type": "integer", "minimum": 1, "maximum": 3],
                "l": ["type": "array", "items": ["type": "string"], "maxItems": 2],
            ],
        ]
        try BazaarSchema.validate(["a": "x", "n": 2, "l": ["p"]], against: schema)
        let fraction = JSONValue.number(try #require(JSONNumber(literal: "2.5")))
        for bad: JSONValue in [
            [:], ["a": "z"], ["a": "x", "extra": 1], ["a": "x", "n": fraction], ["a": "x", "n": 9], ["a": "x", "l": [1]],
            ["a": "x", "l": ["1", "2", "3"]], "not an object",
        ] {
            #expect(throws: BazaarSchema.Mismatch.self) { try BazaarSchema.validate(bad, against: schema) }
        }
        #expect(throws: BazaarSchema.Mismatch.self) { try BazaarSchema.validate(1, against: ["$ref": "#/$defs/x"]) }
        #expect(BazaarSchema.externalReference(in: ["$defs": ["x": ["$id": "#x"]], "$ref": "#/$defs/x"]) == nil)
        #expect(BazaarSchema.externalReference(in: ["items": [["$id": "file:///etc/passwd"]]]) == "file:///etc/passwd")
        // Bounded: a schema nested deeper than the limit is refused, not recursed into.
        var deep: JSONValue = ["type": "object"]
        var value: JSONValue = [:]
        for _ in 0..<(BazaarSchema.maximumDepth + 5) {
            deep = ["type": "object", "properties": ["a": deep]]
            value = ["a": value]
        }
        #expect(throws: BazaarSchema.Mismatch.self) { try BazaarSchema.validate(value, against: deep) }
        // Bounded: a wide instance costs at most the step budget.
        let wide = JSONValue.array(Array(repeating: 1, count: BazaarSchema.maximumSteps + 1))
        #expect(throws: BazaarSchema.Mismatch.self) { try BazaarSchema.validate(wide, against: ["items": ["type": "number"]]) }
        // Bounded: enum comparisons count too (n items each matching the last of n options is n² work).
        let options = (0..<2000).map { JSONValue.number(JSONNumber($0)) }
        let many = JSONValue.array(Array(repeating: .number(JSONNumber(1999)), count: 2000))
        #expect(throws: BazaarSchema.Mismatch.self) { try BazaarSchema.validate(many, against: ["items": ["enum": .array(options)]]) }
        // A small enum over the same items still checks.
        try BazaarSchema.validate(many, against: ["items": ["enum": [1, 1999]]])
        // Bounded: required names and listed types count as well (n items each walking an n-entry
        // list; found writing the extensions fuzz target).
        let objects = JSONValue.array(Array(repeating: ["a": 1] as JSONValue, count: 2000))
        let names = JSONValue.array(Array(repeating: "a" as JSONValue, count: 2000))
        #expect(throws: BazaarSchema.Mismatch.self) { try BazaarSchema.validate(objects, against: ["items": ["required": names]]) }
        let types = JSONValue.array(Array(repeating: "null" as JSONValue, count: 1999) + ["number"])
        #expect(throws: BazaarSchema.Mismatch.self) { try BazaarSchema.validate(many, against: ["items": ["type": types]]) }
        // Short lists over the same items still check.
        try BazaarSchema.validate(objects, against: ["items": ["type": ["null", "object"], "required": ["a"]]])
        try BazaarSchema.validate(many, against: ["items": ["type": ["null", "number"]]])
    }

    // MARK: The resource server

    static func server(_ facilitator: ScriptedFacilitator, _ routes: RouteTable) throws -> ResourceServer {
        try ResourceServer(configuration: .init(routes: routes, facilitator: facilitator, schemes: testSchemes(), store: InMemoryPaymentStateStore()))
    }

    @Test func the402CarriesTheEnrichedDeclaration() async throws {
        var route = PaidRoute.exact("$0.01", on: .baseSepolia, payTo: .fixed(testPayTo), description: "Weather")
        route.bazaar = Self.weather
        let server = try Self.server(ScriptedFacilitator(), ["GET /weather": route])
        let unpaid = await server.respond(to: request(.get, "/weather")) { _ in ServerResponse(status: 200) }
        let required = try paymentRequired(unpaid)
        #expect(required.extensions?["bazaar"] == Self.weather.enriched(method: "GET"))
        // HEAD is priced as GET and declared as HEAD.
        let head = try paymentRequired(await server.respond(to: request(.head, "/weather")) { _ in ServerResponse(status: 200) })
        #expect(head.extensions?["bazaar"]?["info"]?["input"]?["method"] == "HEAD")
    }

    /// A seller that also speaks v1 puts the declaration in its v1 requirements' `outputSchema`
    /// (what v1 facilitators catalog), the same on every request.
    @Test func v1RequirementsCarryTheDeclarationAsOutputSchema() async throws {
        var route = PaidRoute.exact("$0.01", on: .baseSepolia, payTo: .fixed(testPayTo), description: "Weather")
        route.bazaar = Self.weather
        let server = try ResourceServer(
            configuration: .init(
                routes: ["GET /weather": route], facilitator: ScriptedFacilitator(), schemes: testSchemes(), store: InMemoryPaymentStateStore(),
                acceptsV1: true))
        let step = await server.evaluate(request(.get, "/weather"))
        guard case .answer(let answer) = step, let offer = answer.offer else {
            Issue.record("no offer: \(step)")
            return
        }
        let schema = try #require(offer.requirementsV1.first?.outputSchema)
        #expect(schema["input"]?["discoverable"] == true)
        #expect(schema["input"]?["method"] == "GET")
        #expect(schema["input"]?["queryParams"] == ["city": "Paris"])
        #expect(schema["output"]?["example"] == ["temp": 18])
    }

    @Test func dynamicRoutesCarryTheirTemplateAndValues() async throws {
        var named = PaidRoute.exact("$0.01", on: .baseSepolia, payTo: .fixed(testPayTo))
        named.bazaar = .query(pathParams: ["properties": ["userId": ["type": "string"]]])
        var wild = PaidRoute.exact("$0.01", on: .baseSepolia, payTo: .fixed(testPayTo))
        wild.bazaar = .query()
        let server = try Self.server(ScriptedFacilitator(), ["GET /users/[userId]": named, "GET /files/*": wild])
        let user = try paymentRequired(await server.respond(to: request(.get, "/users/42")) { _ in ServerResponse(status: 200) })
        #expect(user.extensions?["bazaar"]?["routeTemplate"] == "/users/:userId")
        #expect(user.extensions?["bazaar"]?["info"]?["input"]?["pathParams"] == ["userId": "42"])
        let file = try paymentRequired(await server.respond(to: request(.get, "/files/report")) { _ in ServerResponse(status: 200) })
        #expect(file.extensions?["bazaar"]?["routeTemplate"] == "/files/:var1")
        #expect(file.extensions?["bazaar"]?["info"]?["input"]?["pathParams"] == ["var1": "report"])
        // A `*` spanning two segments has no single value: the concrete path is cataloged instead.
        let deep = try paymentRequired(await server.respond(to: request(.get, "/files/a/b")) { _ in ServerResponse(status: 200) })
        #expect(deep.extensions?["bazaar"] != nil && deep.extensions?["bazaar"]?["routeTemplate"] == nil)
    }

    @Test func aRouteWhoseDeclarationDoesNotFitIsRefusedAtStartUp() throws {
        var route = PaidRoute.exact("$0.01", on: .baseSepolia, payTo: .fixed(testPayTo))
        route.bazaar = Self.weather
        #expect(throws: RouteConfigurationError.invalidBazaar("POST /weather", .methodMismatch(method: "POST", allowed: Bazaar.queryMethods))) {
            _ = try Self.server(ScriptedFacilitator(), ["POST /weather": route])
        }
        #expect(throws: RouteConfigurationError.invalidBazaar("/weather", .methodRequired)) {
            _ = try Self.server(ScriptedFacilitator(), ["/weather": route])
        }
        route.bazaar = .query(pathParams: ["properties": ["id": ["type": "string"]]])
        #expect(throws: RouteConfigurationError.invalidBazaar("GET /users/[userId]", .unknownPathParameter("id"))) {
            _ = try Self.server(ScriptedFacilitator(), ["GET /users/[userId]": route])
        }
    }

    /// §0: the client may add to an extension but not change the server's data. The facilitator
    /// gets the seller's declaration and resource, whatever the buyer echoed.
    @Test func theFacilitatorGetsTheSellersDeclarationNotTheBuyersEcho() async throws {
        var route = PaidRoute.exact("$0.01", on: .baseSepolia, payTo: .fixed(testPayTo), description: "Weather")
        route.bazaar = Self.weather
        let facilitator = ScriptedFacilitator()
        let server = try Self.server(facilitator, ["GET /weather": route])
        let required = try paymentRequired(await server.respond(to: request(.get, "/weather")) { _ in ServerResponse(status: 200) })
        var forged = payment(
            for: try #require(required.accepts.first), resource: ResourceInfo(url: "https://victim.example/", description: "Free money"))
        forged.extensions = [
            "bazaar": ["info": ["input": ["type": "http", "method": "GET"]], "routeTemplate": "/anything"], "other": ["info": ["kept": true]],
        ]
        let paid = request(.get, "/weather", headers: [.hostHeader: "api.example.com", .paymentSignature: forged.headerValue])
        let answer = try await server.respond(to: paid, handler: contentHandler(Counter()))
        #expect(answer.status == .ok)
        let sent = try #require(await facilitator.settleCalls.first)
        guard case .v2(let payload) = sent.paymentPayload else {
            Issue.record("not v2")
            return
        }
        #expect(payload.extensions?["bazaar"] == required.extensions?["bazaar"])
        #expect(payload.extensions?["other"] == ["info": ["kept": true]])
        #expect(payload.resource == required.resource)
        #expect(await facilitator.verifyCalls.first?.paymentPayload == sent.paymentPayload)
    }
}
