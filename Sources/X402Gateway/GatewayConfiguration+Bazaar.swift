import Foundation
public import X402

extension GatewayConfiguration {
    /// A route's `bazaar` member: how discovery lists it (the same inputs as the reference
    /// `declare_discovery_extension`).
    ///
    /// ```json
    /// { "route": "GET /weather", "price": "$0.01",
    ///   "bazaar": { "input": { "city": "Paris" },
    ///               "inputSchema": { "properties": { "city": { "type": "string" } }, "required": ["city"] },
    ///               "output": { "example": { "temp": 18 } } } }
    /// ```
    ///
    /// With `bodyType` (`json`, `form-data`, `text`) the route takes a body and `input` is the
    /// example body; without it `input` holds example query parameters.
    public struct BazaarRoute: Sendable, Equatable, Codable {
        /// Example query parameters (an object), or the example body when ``bodyType`` is set.
        public var input: JSONValue?
        /// JSON Schema keywords for the query parameters or the body.
        public var inputSchema: JSONValue?
        /// JSON Schema keywords for the path parameters of a parameterised route.
        public var pathParamsSchema: JSONValue?
        /// `json`, `form-data` or `text` for a route that takes a body.
        public var bodyType: String?
        /// Example request headers.
        public var headers: [String: String]?
        /// The answer.
        public var output: Output?

        /// `info.output`.
        public struct Output: Sendable, Equatable, Codable {
            /// `json` (default) or another output type.
            public var type: String?
            /// `info.output.format`, if any.
            public var format: String?
            /// An example answer.
            public var example: JSONValue?
            /// JSON Schema keywords for the example.
            public var schema: JSONValue?

            /// The output member.
            ///
            /// - Parameters:
            ///   - type: `json` when `nil`.
            ///   - format: `info.output.format`.
            ///   - example: An example answer.
            ///   - schema: JSON Schema keywords for the example.
            public init(type: String? = nil, format: String? = nil, example: JSONValue? = nil, schema: JSONValue? = nil) {
                self.type = type
                self.format = format
                self.example = example
                self.schema = schema
            }

            enum CodingKeys: String, CodingKey, CaseIterable {
                case type, format, example, schema
            }
        }

        /// The member as in the file.
        ///
        /// - Parameters:
        ///   - input: Example query parameters, or the example body with `bodyType`.
        ///   - inputSchema: JSON Schema keywords for the query parameters or the body.
        ///   - pathParamsSchema: JSON Schema keywords for the path parameters.
        ///   - bodyType: `json`, `form-data` or `text` for a body route.
        ///   - headers: Example request headers.
        ///   - output: The answer.
        public init(
            input: JSONValue? = nil, inputSchema: JSONValue? = nil, pathParamsSchema: JSONValue? = nil, bodyType: String? = nil,
            headers: [String: String]? = nil, output: Output? = nil
        ) {
            self.input = input
            self.inputSchema = inputSchema
            self.pathParamsSchema = pathParamsSchema
            self.bodyType = bodyType
            self.headers = headers
            self.output = output
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case input, inputSchema, pathParamsSchema, bodyType, headers, output
        }

        /// The members a file may hold under `bazaar`.
        static var schema: ConfigurationSchema {
            var members: [String: ConfigurationSchema] = [:]
            for key in CodingKeys.allCases { members[key.rawValue] = .value }
            var output: [String: ConfigurationSchema] = [:]
            for key in Output.CodingKeys.allCases { output[key.rawValue] = .value }
            members[CodingKeys.output.rawValue] = .object(output)
            return .object(members)
        }

        /// The declaration this member describes.
        ///
        /// - Parameter route: The route, for error messages.
        /// - Returns: The declaration (checked against the route when the server is built).
        /// - Throws: ``GatewayConfigurationError/invalidRoute(_:_:)`` for a member of the wrong type.
        public func declaration(route: String) throws(GatewayConfigurationError) -> BazaarDeclaration {
            func object(_ value: JSONValue?, _ name: String) throws(GatewayConfigurationError) -> JSONObject? {
                guard let value else { return nil }
                guard let object = value.objectValue else { throw .invalidRoute(route, "bazaar.\(name) must be an object") }
                return object
            }
            var result: BazaarDeclaration
            if let bodyType {
                guard let type = BazaarBodyType(rawValue: bodyType) else {
                    throw .invalidRoute(route, "bazaar.bodyType must be json, form-data or text, got \(bodyType)")
                }
                result = .body(type, example: input ?? .object([:]), schema: try object(inputSchema, "inputSchema"))
            } else {
                result = .query(example: try object(input, "input"), schema: try object(inputSchema, "inputSchema"))
            }
            result.pathParamsSchema = try object(pathParamsSchema, "pathParamsSchema")
            result.headers = headers
            if let output {
                result.output = BazaarOutput(
                    type: output.type ?? "json", format: output.format, example: output.example, schema: try object(output.schema, "output.schema"))
            }
            return result
        }
    }
}
