import Foundation
import X402

extension GatewayConfiguration {
    /// The members a configuration file may hold; anything else is refused with its key path.
    static let schema: ConfigurationSchema = {
        var members: [String: ConfigurationSchema] = [:]
        for key in CodingKeys.allCases { members[key.rawValue] = .value }
        var route: [String: ConfigurationSchema] = [:]
        for key in Route.CodingKeys.allCases { route[key.rawValue] = .value }
        route[Route.CodingKeys.bazaar.rawValue] = BazaarRoute.schema
        route[Route.CodingKeys.offerReceipt.rawValue] = OfferReceiptRoute.schema
        members[CodingKeys.routes.rawValue] = .array(.object(route))
        var signing: [String: ConfigurationSchema] = [:]
        for key in OfferReceiptSigning.CodingKeys.allCases { signing[key.rawValue] = .value }
        members[CodingKeys.offerReceipts.rawValue] = .object(signing)
        return .object(members)
    }()

    /// Parses a JSON configuration.
    ///
    /// Unknown members are errors naming their key path (`routes[0].settle`): a typo must not
    /// silently drop a price. Missing members keep their defaults.
    /// - Parameter bytes: The file's bytes.
    /// - Returns: The configuration, not yet validated (see ``validate()``).
    /// - Throws: ``GatewayConfigurationError/invalidFile(_:)`` naming the offending key path.
    public static func parse(_ bytes: [UInt8]) throws(GatewayConfigurationError) -> GatewayConfiguration {
        let tree: JSONValue
        do { tree = try JSONValue(parsing: bytes) } catch { throw .invalidFile("not JSON: \(error)") }
        guard tree.objectValue != nil else { throw .invalidFile("the top level must be an object") }
        if let unknown = schema.unknownMember(in: tree) { throw .invalidFile("unknown member \"\(unknown)\"") }
        do {
            return try JSONDecoder().decode(GatewayConfiguration.self, from: Data(bytes))
        } catch let error as GatewayConfigurationError {
            throw error
        } catch let error as DecodingError {
            throw .invalidFile(ConfigurationSchema.describe(error))
        } catch {
            throw .invalidFile("\(error)")
        }
    }

    /// Reads and parses a JSON configuration file (see ``parse(_:)``).
    /// - Parameter path: The file.
    /// - Returns: The configuration, not yet validated.
    /// - Throws: ``GatewayConfigurationError/unreadableFile(_:)``, or ``GatewayConfigurationError/invalidFile(_:)`` naming the file and the key path.
    public static func load(path: String) throws(GatewayConfigurationError) -> GatewayConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadableFile(path) }
        do {
            return try parse(Array(data))
        } catch .invalidFile(let why) {
            throw .invalidFile("\(path): \(why)")
        }
    }
}
