/// The members a JSON configuration file may hold, so both services' loaders apply one rule:
/// an unknown member is refused with its key path (`networks[0].recieptTimeoutSeconds`), never
/// silently dropped. Not API: shared by X402Gateway and X402Facilitator.
package indirect enum ConfigurationSchema: Sendable {
    /// Any JSON value (a scalar, or a free-form object such as a route's `extra`).
    case value
    /// An object with exactly these members (each optional); a value of another JSON type is
    /// left to the decoder to refuse, so `routes` may hold strings or objects.
    case object([String: ConfigurationSchema])
    /// An array whose elements follow the schema.
    case array(ConfigurationSchema)
    /// An object whose member names are data (e.g. network → addresses), each value following the schema.
    case map(ConfigurationSchema)

    /// The key path of the first member the schema does not know, if any.
    /// - Parameters:
    ///   - value: The parsed file (or part of it).
    ///   - path: The key path of `value` (empty at the top level).
    /// - Returns: `networks[0].recieptTimeoutSeconds`, or `nil` when every member is known.
    package func unknownMember(in value: JSONValue, path: String = "") -> String? {
        switch self {
        case .value:
            return nil
        case .object(let members):
            guard let object = value.objectValue else { return nil }
            for (key, member) in object {
                let memberPath = path.isEmpty ? key : "\(path).\(key)"
                guard let schema = members[key] else { return memberPath }
                if let unknown = schema.unknownMember(in: member, path: memberPath) { return unknown }
            }
            return nil
        case .array(let element):
            guard let array = value.arrayValue else { return nil }
            for (index, item) in array.enumerated() {
                if let unknown = element.unknownMember(in: item, path: "\(path)[\(index)]") { return unknown }
            }
            return nil
        case .map(let element):
            guard let object = value.objectValue else { return nil }
            for (key, item) in object {
                if let unknown = element.unknownMember(in: item, path: path.isEmpty ? key : "\(path).\(key)") { return unknown }
            }
            return nil
        }
    }

    /// A decoding failure as `key.path: what is wrong`.
    /// - Parameter error: What `JSONDecoder` threw.
    /// - Returns: The message, naming the member's key path.
    package static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = keyPath(context.codingPath)
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "\(keyPath(context.codingPath + [key])): missing"
        @unknown default:
            return "\(error)"
        }
    }

    /// `networks[0].rpcURL` for a coding path.
    package static func keyPath(_ keys: [any CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue, key.stringValue == "\(index)" || key.stringValue.hasPrefix("Index ") {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }
}
