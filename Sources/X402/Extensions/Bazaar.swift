/// The `bazaar` discovery extension: a seller describes how a paid route is called (input
/// example, output example, and a JSON Schema of both) so that facilitators can list it in their
/// catalog (`GET /discovery/resources`, `GET /discovery/search`).
///
/// A route declares a ``BazaarDeclaration`` (``PaidRoute/bazaar``). The server checks it when it
/// is built (``BazaarDeclaration/validate(method:routeParameters:)``) and, for every 402, emits it
/// in `PaymentRequired.extensions["bazaar"]` enriched for the request as the reference servers do:
/// `info.input.method` set to the request's method, the schema's method `enum` narrowed to it, and
/// for a parameterised route a top-level `routeTemplate` (`/users/:id`) with the concrete values in
/// `info.input.pathParams`.
public enum Bazaar {
    /// The key in `PaymentRequired.extensions` and `PaymentPayload.extensions`.
    public static let extensionKey = "bazaar"
    /// Methods whose input is a query (`info.input` without `bodyType`).
    public static let queryMethods: [String] = ["GET", "HEAD", "DELETE"]
    /// Methods whose input is a body (`info.input.bodyType` and `body`).
    public static let bodyMethods: [String] = ["POST", "PUT", "PATCH"]
    /// The draft named by `$schema`.
    static let schemaDialect = "https://json-schema.org/draft/2020-12/schema"
    /// The most bytes of the serialized `info.input` or `info.output` a facilitator catalogs (this
    /// package's facilitator refuses larger entries).
    public static let maximumSectionBytes = 16 * 1024

    /// The colon-syntax route template of a route pattern's path (`[id]` → `:id`, a `*` segment →
    /// `:var1`, `:var2`, …), or `nil` for a static path (nothing to template).
    ///
    /// - Parameter path: The pattern's path, e.g. `/users/[id]` or `/files/*`.
    /// - Returns: The template, e.g. `/users/:id`, or `nil`.
    public static func routeTemplate(for path: String) -> String? {
        var wildcards = 0
        var templated = false
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
            if segment == "*" {
                wildcards += 1
                templated = true
                return ":var\(wildcards)"
            }
            var out = ""
            var rest = Substring(segment)
            while let open = rest.firstIndex(of: "["), let close = rest[open...].firstIndex(of: "]"), rest.index(after: open) < close {
                out += rest[..<open] + ":" + rest[rest.index(after: open)..<close]
                rest = rest[rest.index(after: close)...]
                templated = true
            }
            out += rest
            if out.hasPrefix(":") { templated = true }
            return out
        }
        return templated ? segments.joined(separator: "/") : nil
    }

    /// The v1 form of a `bazaar` extension for a route's v1 requirements: `outputSchema` with the
    /// declaration's `input` (marked `discoverable`) and `output`, which v1 facilitators catalog.
    ///
    /// - Parameter extensionValue: The enriched `extensions["bazaar"]`.
    /// - Returns: The `outputSchema`, or `nil` when the value has no `info.input`.
    public static func v1OutputSchema(_ extensionValue: JSONValue) -> JSONValue? {
        guard var input = extensionValue["info"]?["input"]?.objectValue else { return nil }
        input["discoverable"] = true
        var schema: JSONObject = ["input": .object(input)]
        if let output = extensionValue["info"]?["output"] { schema["output"] = output }
        return .object(schema)
    }

    /// The parameter names of a colon-syntax template (`/users/:id/files/:name` → `id`, `name`).
    static func templateParameters(_ template: String) -> [String] {
        var names: [String] = []
        for segment in template.split(separator: "/") {
            guard let colon = segment.firstIndex(of: ":") else { continue }
            let name = segment[segment.index(after: colon)...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !name.isEmpty { names.append(String(name)) }
        }
        return names
    }
}

/// How a body example is encoded (`info.input.bodyType`).
public enum BazaarBodyType: String, Sendable, Hashable, CaseIterable {
    /// A JSON body (`application/json`).
    case json
    /// A form (`form-data`).
    case formData = "form-data"
    /// Plain text.
    case text
}

/// What a route answers (`info.output`).
public struct BazaarOutput: Sendable, Equatable {
    /// `info.output.type`, e.g. `json` (the reference servers' value) or `text`.
    public var type: String
    /// `info.output.format`, if any.
    public var format: String?
    /// An example answer.
    public var example: JSONValue?
    /// JSON Schema keywords describing the example (merged into the schema of `output.example`).
    public var schema: JSONObject?

    /// An output description.
    ///
    /// - Parameters:
    ///   - type: `info.output.type`.
    ///   - format: `info.output.format`.
    ///   - example: An example answer.
    ///   - schema: JSON Schema keywords for the example.
    public init(type: String = "json", format: String? = nil, example: JSONValue? = nil, schema: JSONObject? = nil) {
        self.type = type
        self.format = format
        self.example = example
        self.schema = schema
    }

    /// A JSON answer like `example`.
    ///
    /// - Parameters:
    ///   - example: An example answer.
    ///   - schema: JSON Schema keywords for the example.
    /// - Returns: The output description.
    public static func json(_ example: JSONValue, schema: JSONObject? = nil) -> BazaarOutput {
        BazaarOutput(type: "json", example: example, schema: schema)
    }
}

/// A paid route's `bazaar` declaration: how it is called and what it answers.
///
/// ```swift
/// let weather = BazaarDeclaration.query(
///     example: ["city": "Paris"],
///     schema: ["properties": ["city": ["type": "string"]], "required": ["city"]],
///     output: .json(["temp": 18]))
/// ```
///
/// The HTTP method is the route's (`GET /weather`); a query declaration fits `GET`, `HEAD` and
/// `DELETE` routes, a body declaration `POST`, `PUT` and `PATCH` routes.
public struct BazaarDeclaration: Sendable, Equatable {
    /// The request's input.
    public enum Input: Sendable, Equatable {
        /// Query parameters (example values).
        case query(JSONObject?)
        /// A body of this type (an example: an object, or a string for `text`).
        case body(BazaarBodyType, JSONValue)
    }

    /// The input example.
    public var input: Input
    /// JSON Schema keywords describing the query parameters (merged into `{"type":"object"}`) or
    /// the body; `{"properties":{}}` when `nil`.
    public var inputSchema: JSONObject?
    /// JSON Schema keywords describing the path parameters of a parameterised route.
    public var pathParamsSchema: JSONObject?
    /// Example request headers (`info.input.headers`).
    public var headers: [String: String]?
    /// The answer.
    public var output: BazaarOutput?

    /// A declaration; ``query(example:schema:pathParams:output:)`` and
    /// ``body(_:example:schema:pathParams:output:)`` are the usual ways to make one.
    ///
    /// - Parameters:
    ///   - input: The input example.
    ///   - inputSchema: JSON Schema keywords for the query parameters or the body.
    ///   - pathParamsSchema: JSON Schema keywords for the path parameters.
    ///   - headers: Example request headers.
    ///   - output: The answer.
    public init(
        input: Input, inputSchema: JSONObject? = nil, pathParamsSchema: JSONObject? = nil, headers: [String: String]? = nil,
        output: BazaarOutput? = nil
    ) {
        self.input = input
        self.inputSchema = inputSchema
        self.pathParamsSchema = pathParamsSchema
        self.headers = headers
        self.output = output
    }

    /// A route read with query parameters (`GET`, `HEAD`, `DELETE`).
    ///
    /// - Parameters:
    ///   - example: Example query parameters.
    ///   - schema: JSON Schema keywords for the query parameters (e.g. `properties`, `required`).
    ///   - pathParams: JSON Schema keywords for the path parameters.
    ///   - output: The answer.
    /// - Returns: The declaration.
    public static func query(
        example: JSONObject? = nil, schema: JSONObject? = nil, pathParams: JSONObject? = nil, output: BazaarOutput? = nil
    ) -> BazaarDeclaration {
        BazaarDeclaration(input: .query(example), inputSchema: schema, pathParamsSchema: pathParams, output: output)
    }

    /// A route called with a body (`POST`, `PUT`, `PATCH`).
    ///
    /// - Parameters:
    ///   - type: How the body is encoded.
    ///   - example: An example body.
    ///   - schema: JSON Schema of the body.
    ///   - pathParams: JSON Schema keywords for the path parameters.
    ///   - output: The answer.
    /// - Returns: The declaration.
    public static func body(
        _ type: BazaarBodyType = .json, example: JSONValue = .object([:]), schema: JSONObject? = nil, pathParams: JSONObject? = nil,
        output: BazaarOutput? = nil
    ) -> BazaarDeclaration {
        BazaarDeclaration(input: .body(type, example), inputSchema: schema, pathParamsSchema: pathParams, output: output)
    }

    /// The methods the declaration fits.
    public var methods: [String] {
        if case .body = input { return Bazaar.bodyMethods }
        return Bazaar.queryMethods
    }

    // MARK: Emitting

    /// The extension object before it is enriched for a request (`info` and `schema`, method-less),
    /// as the reference `declare_discovery_extension` builds it.
    public var declaration: JSONObject {
        var input: JSONObject = ["type": "http"]
        var inputProperties: JSONObject = [
            "type": ["type": "string", "const": "http"],
            "method": ["type": "string", "enum": .array(methods.map { .string($0) })],
        ]
        var required: [JSONValue] = ["type", "method"]
        let keywords = inputSchema ?? ["properties": .object([:])]
        switch self.input {
        case .query(let example):
            if let example, !example.isEmpty { input["queryParams"] = .object(example) }
            inputProperties["queryParams"] = .object(JSONObject([("type", "object")]).merging(keywords))
        case .body(let type, let example):
            input["bodyType"] = .string(type.rawValue)
            input["body"] = example
            inputProperties["bodyType"] = ["type": "string", "enum": .array(BazaarBodyType.allCases.map { .string($0.rawValue) })]
            inputProperties["body"] = .object(keywords)
            required += ["bodyType", "body"]
        }
        if let headers { input["headers"] = .object(JSONObject(headers.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })) }
        if let pathParamsSchema {
            inputProperties["pathParams"] = .object(JSONObject([("type", "object")]).merging(pathParamsSchema))
        }
        if headers != nil, inputProperties["headers"] == nil {
            inputProperties["headers"] = ["type": "object", "additionalProperties": ["type": "string"]]
        }
        var info: JSONObject = ["input": .object(input)]
        var properties: JSONObject = [
            "input": [
                "type": "object", "properties": .object(inputProperties), "required": .array(required), "additionalProperties": false,
            ]
        ]
        if let output {
            var o: JSONObject = ["type": .string(output.type)]
            if let format = output.format { o["format"] = .string(format) }
            if let example = output.example { o["example"] = example }
            info["output"] = .object(o)
            var outputProperties: JSONObject = ["type": ["type": "string"]]
            if output.format != nil { outputProperties["format"] = ["type": "string"] }
            if let example = output.example {
                var exampleSchema: JSONObject = ["type": .string(example.typeName)]
                if case .number = example { exampleSchema["type"] = "number" }
                outputProperties["example"] = .object(exampleSchema.merging(output.schema ?? [:]))
            }
            properties["output"] = ["type": "object", "properties": .object(outputProperties), "required": ["type"]]
        }
        return [
            "info": .object(info),
            "schema": ["$schema": .string(Bazaar.schemaDialect), "type": "object", "properties": .object(properties), "required": ["input"]],
        ]
    }

    /// The extension object for one request, enriched as the reference servers do: `method` in
    /// `info.input` (right after `type`) and the schema's method `enum` narrowed to it; for a
    /// parameterised route `routeTemplate` at the top level, the concrete `pathParams` in
    /// `info.input`, and `pathParams` allowed by the schema.
    ///
    /// - Parameters:
    ///   - method: The request's method (`HEAD` stays `HEAD`).
    ///   - routeTemplate: The route's colon-syntax template, `nil` for a static route.
    ///   - pathParams: The concrete value of each template parameter.
    /// - Returns: The value of `extensions["bazaar"]`.
    public func enriched(method: String, routeTemplate: String? = nil, pathParams: [String: String] = [:]) -> JSONValue {
        var ext = declaration
        guard var info = ext["info"]?.objectValue, var input = info["input"]?.objectValue, var schema = ext["schema"]?.objectValue,
            var properties = schema["properties"]?.objectValue, var inputSchema = properties["input"]?.objectValue,
            var inputProperties = inputSchema["properties"]?.objectValue
        else { return .object(ext) }
        var ordered: JSONObject = ["type": input["type"] ?? "http", "method": .string(method)]
        for (key, value) in input where key != "type" { ordered[key] = value }
        input = ordered
        inputProperties["method"] = ["type": "string", "enum": [.string(method)]]
        if let routeTemplate {
            input["pathParams"] = .object(JSONObject(pathParams.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
            if inputProperties["pathParams"] == nil { inputProperties["pathParams"] = ["type": "object"] }
        }
        inputSchema["properties"] = .object(inputProperties)
        properties["input"] = .object(inputSchema)
        schema["properties"] = .object(properties)
        info["input"] = .object(input)
        ext["info"] = .object(info)
        ext["schema"] = .object(schema)
        if let routeTemplate { ext["routeTemplate"] = .string(routeTemplate) }
        return .object(ext)
    }

    // MARK: Checking

    /// Checks the declaration for a route with `method` and path parameters `routeParameters`:
    /// the method fits the input kind, the path-parameter schema names only parameters of the
    /// route, the schema refers to no other document, every section fits a facilitator's size
    /// limit, and the enriched `info` (with a placeholder for each path parameter) matches the
    /// enriched `schema`.
    ///
    /// - Parameters:
    ///   - method: The route's method; `nil` (a route for any method) is refused, since the
    ///     declaration describes one kind of request.
    ///   - routeParameters: The parameter names of the route's template.
    /// - Throws: ``BazaarDeclarationError`` naming the first problem.
    public func validate(method: String?, routeParameters: [String]) throws(BazaarDeclarationError) {
        guard let method else { throw .methodRequired }
        guard methods.contains(method) else { throw .methodMismatch(method: method, allowed: methods) }
        if case .body(let type, let example) = input {
            switch (type, example) {
            case (.text, .string), (.json, .object), (.json, .array), (.formData, .object): break
            default: throw .bodyExampleMismatch(type.rawValue, example.typeName)
            }
        }
        if let names = pathParamsSchema?["properties"]?.objectValue?.keys {
            for name in names where !routeParameters.contains(name) { throw .unknownPathParameter(name) }
        }
        if let names = pathParamsSchema?["required"]?.arrayValue {
            for name in names.compactMap(\.stringValue) where !routeParameters.contains(name) { throw .unknownPathParameter(name) }
        }
        let template = routeParameters.isEmpty ? nil : "/" + routeParameters.map { ":" + $0 }.joined(separator: "/")
        let ext = enriched(
            method: method, routeTemplate: template,
            pathParams: Dictionary(routeParameters.map { ($0, "example") }, uniquingKeysWith: { a, _ in a }))
        guard let info = ext["info"], let schema = ext["schema"] else { throw .infoDoesNotMatchSchema("missing info or schema") }
        if let reference = BazaarSchema.externalReference(in: schema) { throw .externalReference(reference) }
        for section in ["input", "output"] {
            if let value = info[section], value.serialized().count > Bazaar.maximumSectionBytes { throw .tooLarge(section) }
        }
        do {
            try BazaarSchema.validate(info, against: schema)
        } catch {
            throw .infoDoesNotMatchSchema(error.description)
        }
    }
}

/// Why a route's ``BazaarDeclaration`` was refused when the server was built.
public enum BazaarDeclarationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The route matches any method; a bazaar route must name one.
    case methodRequired
    /// The route's method does not fit the declaration (a query for GET/HEAD/DELETE, a body for
    /// POST/PUT/PATCH).
    case methodMismatch(method: String, allowed: [String])
    /// The body example is not of the declared body type.
    case bodyExampleMismatch(String, String)
    /// The path-parameter schema names a parameter the route does not have.
    case unknownPathParameter(String)
    /// The schema refers to another document (`$ref`/`$id` not starting with `#`).
    case externalReference(String)
    /// `info.input` or `info.output` is larger than a facilitator catalogs.
    case tooLarge(String)
    /// The example `info` does not match the declared schema.
    case infoDoesNotMatchSchema(String)

    public var description: String {
        switch self {
        case .methodRequired: "a bazaar route must name its method (e.g. \"GET /weather\")"
        case .methodMismatch(let method, let allowed):
            "a declaration for \(allowed.joined(separator: "/")) does not fit a \(method) route"
        case .bodyExampleMismatch(let type, let example): "a \(type) body example cannot be a JSON \(example)"
        case .unknownPathParameter(let name): "the path parameters name \(name), which the route does not have"
        case .externalReference(let reference): "the schema refers to another document (\(reference))"
        case .tooLarge(let section): "info.\(section) is larger than \(Bazaar.maximumSectionBytes) bytes"
        case .infoDoesNotMatchSchema(let why): "info does not match its schema: \(why)"
        }
    }
}
