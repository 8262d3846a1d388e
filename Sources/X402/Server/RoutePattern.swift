import Foundation

/// A route key such as `GET /weather`, `/api/*` or `POST /users/[id]/files/:name`.
///
/// The pattern is matched against the decoded segments of a ``RequestPath`` (never against the
/// raw text): literals compare case-insensitively (as the reference servers do; an upstream that
/// ignores case is then still charged), query strings never take part, and a trailing slash is
/// ignored. `*` matches any characters, across segments; `[param]` and `:param` match one
/// non-empty segment (or the part of it before a literal suffix, as in `[id].json`) and capture
/// it, decoded. A pattern ending in `/*` also matches its prefix: `/x/*` covers `/x` and `/x/`.
///
/// The method, when given, must match; `GET` routes also match `HEAD` (frameworks answer `HEAD`
/// with the `GET` handler, so it is charged like `GET`).
public struct RoutePattern: Sendable, Hashable, CustomStringConvertible {
    /// The method in upper case, or `nil` for any method.
    public let method: String?
    /// The normalised path pattern.
    public let path: String
    private let tokens: [Token]

    enum Token: Sendable, Hashable {
        case separator
        case literal(Unicode.Scalar)
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
        let startsWithSlash = path.hasPrefix("/")
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        if startsWithSlash && segments.isEmpty { tokens.append(.separator) }
        for (n, segmentText) in segments.enumerated() {
            if startsWithSlash || n > 0 { tokens.append(.separator) }
            let segment = Array(RoutePattern.percentDecoded(String(segmentText)).precomposedStringWithCanonicalMapping.unicodeScalars)
            var i = 0
            while i < segment.count {
                let c = segment[i]
                if c == "*" {
                    if tokens.last != .wildcard { tokens.append(.wildcard) }
                    i += 1
                    continue
                }
                var name: String?
                if c == "[", let close = segment[i...].firstIndex(of: "]"), close > i + 1 {
                    name = String(String.UnicodeScalarView(segment[(i + 1)..<close]))
                    i = close + 1
                } else if c == ":", i == 0 {
                    guard segment.count > 1 else { throw .invalidPattern(text, "empty parameter name after :") }
                    name = String(String.UnicodeScalarView(segment[1...]))
                    i = segment.count
                }
                if let name {
                    if case .parameter = tokens.last { throw .invalidPattern(text, "two parameters in a row cannot be told apart") }
                    if tokens.last == .wildcard { throw .invalidPattern(text, "a parameter right after * cannot be told apart") }
                    tokens.append(.parameter(name))
                    continue
                }
                tokens.append(.literal(c))
                i += 1
            }
            // A parameter takes its whole segment but for a literal prefix and suffix (`v[n].json`).
            let segmentTokens = tokens[(tokens.lastIndex(of: .separator).map { $0 + 1 } ?? 0)...]
            let parameters = segmentTokens.filter { if case .parameter = $0 { true } else { false } }.count
            if parameters > 1 || (parameters == 1 && segmentTokens.contains(.wildcard)) {
                throw .invalidPattern(text, "a segment with a parameter may hold only literal text besides it")
            }
        }
        self.tokens = tokens
    }

    public var description: String { method.map { "\($0) \(path)" } ?? path }

    /// Whether the pattern's method admits `requestMethod` (`GET` admits `HEAD`).
    public func admits(method requestMethod: String) -> Bool {
        guard let method else { return true }
        let m = requestMethod.uppercased()
        return method == m || (m == "HEAD" && method == "GET")
    }

    /// The captured parameters if `method` and `path` match, else `nil`. The path is read as a
    /// ``RequestPath``: its canonical reading first, then each alternative reading; a malformed
    /// path matches nothing.
    public func match(method requestMethod: String, path requestPath: String) -> [String: String]? {
        guard admits(method: requestMethod), let parsed = try? RequestPath(requestPath) else { return nil }
        for reading in parsed.readings {
            if let captures = match(segments: reading) { return captures }
        }
        return nil
    }

    /// The captured parameters if the decoded `segments` match the path pattern (the method is not checked).
    public func match(segments: [String]) -> [String: String]? {
        var units: [Unicode.Scalar?] = []
        for segment in segments {
            units.append(nil)
            units.append(contentsOf: segment.unicodeScalars.map { Optional($0) })
        }
        if units.isEmpty { units = [nil] }
        var matcher = Matcher(tokens: tokens, units: units)
        if let captures = matcher.run() { return captures }
        // `/x/*` also covers `/x` and `/x/`.
        if tokens.count >= 2, tokens[tokens.count - 1] == .wildcard, tokens[tokens.count - 2] == .separator {
            var prefix = Matcher(tokens: Array(tokens.dropLast(2)), units: units)
            if tokens.count == 2 { prefix = Matcher(tokens: [.separator], units: units) }
            return prefix.run()
        }
        return nil
    }

    /// A backtracking matcher over separator (`nil`) and scalar units. Its work is bounded by
    /// tokens × units: a wildcard that fails from position u also fails from any later position,
    /// so each wildcard scans each position at most once; a parameter's length is fixed by the
    /// end of its segment and the literal suffix after it.
    private struct Matcher {
        let tokens: [Token]
        let units: [Unicode.Scalar?]
        /// For each wildcard token, the smallest position from which it is known to fail.
        var failedFrom: [Int]
        /// For each unit, the index of the next separator (or the end).
        var segmentEnd: [Int]
        var captures: [String: String] = [:]

        init(tokens: [Token], units: [Unicode.Scalar?]) {
            self.tokens = tokens
            self.units = units
            failedFrom = [Int](repeating: Int.max, count: tokens.count)
            segmentEnd = [Int](repeating: units.count, count: units.count + 1)
            var next = units.count
            for i in stride(from: units.count - 1, through: 0, by: -1) {
                if units[i] == nil { next = i }
                segmentEnd[i] = next
            }
        }

        mutating func run() -> [String: String]? {
            match(0, 0) ? captures : nil
        }

        /// Literal tokens after the parameter at `t`, up to the next separator.
        private func suffixLength(after t: Int) -> Int {
            var n = 0
            var i = t + 1
            while i < tokens.count, case .literal = tokens[i] {
                n += 1
                i += 1
            }
            return n
        }

        private mutating func match(_ startToken: Int, _ startUnit: Int) -> Bool {
            var t = startToken
            var u = startUnit
            while t < tokens.count {
                switch tokens[t] {
                case .separator:
                    guard u < units.count, units[u] == nil else { return false }
                    t += 1
                    u += 1
                case .literal(let c):
                    guard u < units.count, let s = units[u], Self.same(s, c) else { return false }
                    t += 1
                    u += 1
                case .wildcard:
                    guard u < failedFrom[t] else { return false }
                    let last = min(units.count, failedFrom[t] == Int.max ? units.count : failedFrom[t] - 1)
                    var i = u
                    while i <= last {
                        if match(t + 1, i) { return true }
                        i += 1
                    }
                    failedFrom[t] = u
                    return false
                case .parameter(let name):
                    guard u < units.count, units[u] != nil else { return false }
                    let end = segmentEnd[u] - suffixLength(after: t)
                    guard end > u, match(t + 1, end) else { return false }
                    captures[name] = String(String.UnicodeScalarView(units[u..<end].compactMap { $0 }))
                    return true
                }
            }
            return u == units.count
        }

        private static func same(_ a: Unicode.Scalar, _ b: Unicode.Scalar) -> Bool {
            if a == b { return true }
            if a.isASCII && b.isASCII {
                let la = a.value | ((0x41...0x5A).contains(a.value) ? 0x20 : 0)
                let lb = b.value | ((0x41...0x5A).contains(b.value) ? 0x20 : 0)
                return la == lb
            }
            return a.properties.lowercaseMapping == b.properties.lowercaseMapping
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
    /// The route allows sign-in but the server has no `signInWithX` settings (or, for an
    /// auth-only route without payment options, settings without `chains` to offer).
    case signInNotConfigured(String)
    case invalidPrice(String, String)
    case noSchemeServer(scheme: String, network: String)
    /// The route declares `offer-receipt` but the server has no `offerReceipts` signer.
    case offerReceiptsNotConfigured(String)
    /// The route's `bazaar` declaration does not fit it.
    case invalidBazaar(String, BazaarDeclarationError)

    public var description: String {
        switch self {
        case .invalidPattern(let p, let why): "route \"\(p)\": \(why)"
        case .noPaymentOptions(let p): "route \"\(p)\" has no payment options"
        case .signInNotConfigured(let p):
            "route \"\(p)\" allows sign-in but the server has no signInWithX settings (auth-only routes also need its chains)"
        case .invalidPrice(let price, let why): "price \"\(price)\": \(why)"
        case .noSchemeServer(let s, let n): "no scheme server registered for \(s) on \(n)"
        case .offerReceiptsNotConfigured(let p): "route \"\(p)\" declares offer-receipt but the server has no offerReceipts signer"
        case .invalidBazaar(let p, let why): "route \"\(p)\": bazaar: \(why)"
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
