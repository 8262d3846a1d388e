/// The x402 protocol version carried in `x402Version`.
public enum X402Version: Int, Sendable, Hashable, Comparable, Codable, CaseIterable, CustomStringConvertible {
    /// The legacy protocol: network names, `maxAmountRequired`, `X-PAYMENT`, 402 object in the body.
    case v1 = 1
    /// The current protocol: CAIP-2 networks, `accepted` echo, `PAYMENT-*` headers.
    case v2 = 2

    public static func < (lhs: X402Version, rhs: X402Version) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "v\(rawValue)" }

    /// Reads `x402Version` from a message object.
    ///
    /// - Throws: ``MessageDecodingError`` if the member is missing, not an integer, or not 1 or 2.
    public static func detect(in json: JSONValue) throws(MessageDecodingError) -> X402Version {
        try read(from: JSONReader(json))
    }

    /// Reads `x402Version` from an object being decoded; errors carry the reader's path.
    static func read(from reader: JSONReader) throws(MessageDecodingError) -> X402Version {
        let raw = try reader.int("x402Version")
        guard let version = X402Version(rawValue: raw) else {
            throw MessageDecodingError(path: reader.childPath("x402Version"), problem: .invalidValue("unsupported x402 version \(raw)"))
        }
        return version
    }

    func expect(in reader: JSONReader) throws(MessageDecodingError) {
        let raw = try reader.int("x402Version")
        guard raw == rawValue else {
            throw MessageDecodingError(
                path: reader.childPath("x402Version"), problem: .invalidValue("expected \(rawValue), found \(raw)"))
        }
    }
}

func decodeNetwork(_ text: String, path: String) throws(MessageDecodingError) -> Network {
    guard let n = Network(text) else {
        throw MessageDecodingError(path: path, problem: .invalidValue("not a CAIP-2 network identifier: \"\(text)\""))
    }
    return n
}
