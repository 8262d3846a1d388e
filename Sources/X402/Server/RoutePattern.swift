/// A route key such as `GET /weather`, `/api/*` or `POST /users/[id]/files/:name`.
///
/// Matching follows the reference servers: the method (if given) must match; the path is
/// compared case-insensitively after URL-decoding, dropping the query, turning `\` into `/`,
/// collapsing duplicate slashes and removing a trailing slash. `*` matches any characters
/// (across segments); `[param]` and `:param` match one non-empty segment and capture it.
public struct RoutePattern: Sendable, Hashable, CustomStringConvertible {
    /// The method in upper case, or `nil` for any method.
    public let method: String?
    /// The normalised path pattern.
    public let path: String
    private let tokens: [Token]

    enum Token: Sendable, Hashable {
        case literal(Character)
        case wildcard
        case parameter(String)
    }

    /// Parses `"<METHOD> <path>"` or `"<path>"`.
    public init(_ text: String) throws(RouteConfigurationError) {
        let trimmed = text.trimmingSpaces
        let parts = trimmed.split(separator: " ", omittingEmptySubsequences: true)
        let pathText: String
        switch parts.count {
        case 1:
            method = nil
            pathText = String(parts[0])
        case 2:
            let m = String(parts[0]).uppercased()
            guard m == "*" || m.allSatisfy({ $0.isLetter }) else { throw .invalidPattern(text, "the method must be letters only") }
            method = m == "*" ? nil : m
            pathText = String(parts[1])
        default:
            throw .invalidPattern(text, "expected \"<METHOD> <path>\" or \"<path>\"")
        }
        guard pathText.hasPrefix("/") || pathText.hasPrefix("*") else {
            throw .invalidPattern(text, "the path must start with / or *")
        }
        path = RoutePattern.normalize(pathText, decode: false)
        var tokens: [Token] = []
        let chars = Array(path)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "*" {
                if tokens.last != .wildcard { tokens.append(.wildcard) }
                i += 1
            } else if c == "[", let close = chars[i...].firstIndex(of: "]"), close > i + 1 {
                tokens.append(.parameter(String(chars[(i + 1)..<close])))
                i = close + 1
            } else if c == ":", i > 0, chars[i - 1] == "/" {
                var j = i + 1
                while j < chars.count, chars[j] != "/" { j += 1 }
                guard j > i + 1 else { throw .invalidPattern(text, "empty parameter name after :") }
                tokens.append(.parameter(String(chars[(i + 1)..<j])))
                i = j
            } else {
                tokens.append(.literal(c))
                i += 1
            }
        }
        self.tokens = tokens
    }

    public var description: String { method.map { "\($0) \(path)" } ?? path }

    /// The captured parameters if `method` and `path` match, else `nil`.
    public func match(method requestMethod: String, path requestPath: String) -> [String: String]? {
        if let method, method != requestMethod.uppercased() { return nil }
        let chars = Array(RoutePattern.normalize(requestPath, decode: true))
        var captures: [String: String] = [:]
        return Self.match(tokens[...], chars[...], &captures) ? captures : nil
    }

    private static func match(_ tokens: ArraySlice<Token>, _ chars: ArraySlice<Character>, _ captures: inout [String: String]) -> Bool {
        guard let token = tokens.first else { return chars.isEmpty }
        let rest = tokens.dropFirst()
        switch token {
        case .literal(let c):
            guard let first = chars.first, first == c || first.lowercased() == c.lowercased() else { return false }
            return match(rest, chars.dropFirst(), &captures)
        case .wildcard:
            var i = chars.startIndex
            while true {
                if match(rest, chars[i...], &captures) { return true }
                if i == chars.endIndex { return false }
                i += 1
            }
        case .parameter(let name):
            var end = chars.startIndex
            while end < chars.endIndex, chars[end] != "/" { end += 1 }
            guard end > chars.startIndex else { return false }
            // A segment may be followed by literal text in the same segment (`[id].json`), so try
            // every length, longest first.
            var candidate = end
            while candidate > chars.startIndex {
                var inner = captures
                inner[name] = String(chars[chars.startIndex..<candidate])
                if match(rest, chars[candidate...], &inner) {
                    captures = inner
                    return true
                }
                candidate -= 1
            }
            return false
        }
    }

    /// The comparison form of a path: query and fragment removed, optionally percent-decoded,
    /// `\` → `/`, duplicate slashes collapsed, trailing slash removed.
    static func normalize(_ path: String, decode: Bool) -> String {
        var p = Substring(path)
        if let cut = p.firstIndex(where: { $0 == "?" || $0 == "#" }) { p = p[..<cut] }
        var text = decode ? percentDecoded(String(p)) : String(p)
        text = text.replacingBackslashes
        var out = ""
        out.reserveCapacity(text.count)
        for c in text where !(c == "/" && out.last == "/") { out.append(c) }
        while out.count > 1, out.last == "/" { out.removeLast() }
        if out.isEmpty { out = "/" }
        return out
    }

    /// Percent-decodes UTF-8; invalid escapes are kept as written.
    static func percentDecoded(_ s: String) -> String {
        guard s.contains("%") else { return s }
        var bytes: [UInt8] = []
        let utf8 = Array(s.utf8)
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "%"), i + 2 < utf8.count, let hi = hexValue(utf8[i + 1]), let lo = hexValue(utf8[i + 2]) {
                bytes.append(hi << 4 | lo)
                i += 3
            } else {
                bytes.append(utf8[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Why a route table could not be built.
public enum RouteConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidPattern(String, String)
    case noPaymentOptions(String)
    case invalidPrice(String, String)
    case noSchemeServer(scheme: String, network: String)

    public var description: String {
        switch self {
        case .invalidPattern(let p, let why): "route \"\(p)\": \(why)"
        case .noPaymentOptions(let p): "route \"\(p)\" has no payment options"
        case .invalidPrice(let price, let why): "price \"\(price)\": \(why)"
        case .noSchemeServer(let s, let n): "no scheme server registered for \(s) on \(n)"
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }

    var replacingBackslashes: String {
        guard contains("\\") else { return self }
        return String(map { $0 == "\\" ? "/" : $0 })
    }
}
