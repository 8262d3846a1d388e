import Foundation
public import HTTPTypes

/// The path of a request target in one canonical form, used both to find a route's price and to
/// reach the handler or upstream, so that what is charged is what is served.
///
/// The canonical form (RFC 3986 §6.2.2) is percent-encoded and starts with `/`:
/// - escapes of unreserved characters (`A-Z a-z 0-9 - . _ ~`) are decoded, other escapes are kept
///   with upper-case hex, and bytes that may not appear raw in a path (`\`, space, non-ASCII, …)
///   are percent-encoded;
/// - dot segments are removed (§5.2.4), after decoding, so `%2e%2e` counts as `..`;
/// - duplicate slashes are collapsed; a trailing slash is kept (matching ignores it);
/// - the case of the path is never changed (route matching compares case-insensitively).
///
/// Besides the canonical reading, a path can be read differently by the software behind the
/// seller: an in-process router splits the raw path and decodes each segment (no dot-segment
/// removal); a lenient upstream decodes everything, turns `\` into `/`, drops `;parameters`,
/// trailing dots and spaces, and removes dot segments (Tomcat, nginx, IIS, static servers); a
/// double-decoding one decodes twice. ``alternativeReadings`` lists every reading that differs
/// from the canonical one. A path with alternative readings is *ambiguous*; the seller refuses it
/// (400) when any reading reaches a paid route (see ``RouteTable/resolve(_:)``).
///
/// Malformed targets are refused outright with a typed ``RequestPathError``: a path not starting
/// with `/`, a fragment, control characters (raw or percent-encoded, e.g. `%0a`), invalid
/// percent escapes, invalid UTF-8, and paths longer than ``maximumLength`` bytes.
public struct RequestPath: Sendable, Hashable {
    /// Paths longer than this many bytes are refused (414).
    public static let maximumLength = 4096

    /// The path as received (without the query).
    public let raw: String
    /// The canonical, percent-encoded path: what the gateway forwards.
    public let canonical: String
    /// The percent-decoded (NFC) segments of ``canonical``, without empty segments.
    public let segments: [String]
    /// Decoded segment lists of the other readings that differ from ``segments``.
    public let alternativeReadings: [[String]]

    /// Whether some software could route this path differently from its canonical form.
    public var isAmbiguous: Bool { !alternativeReadings.isEmpty }

    /// Canonicalises `raw` (an origin-form path; an absolute-form target `http://host/path` is
    /// reduced to its path; anything from `?` on is ignored).
    public init(_ raw: String) throws(RequestPathError) {
        var bytes = Array(raw.utf8)
        if let q = bytes.firstIndex(of: UInt8(ascii: "?")) { bytes = Array(bytes[..<q]) }
        guard bytes.count <= Self.maximumLength else { throw .tooLong(bytes.count) }
        bytes = Self.originForm(bytes)
        guard bytes.first == UInt8(ascii: "/") else { throw .notOriginForm }
        for b in bytes {
            if b < 0x20 || b == 0x7F { throw .controlCharacter }
            if b == UInt8(ascii: "#") { throw .fragment }
        }
        let rawSegments = bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map(Array.init)

        // The router's reading: split the raw path, decode each segment.
        var routerReading: [String] = []
        for segment in rawSegments where !segment.isEmpty {
            routerReading.append(try Self.text(Self.decoded(segment)))
        }

        // The canonical path.
        var output: [[UInt8]] = []
        var trailingSlash = bytes.last == UInt8(ascii: "/")
        for (index, segment) in rawSegments.enumerated() where !segment.isEmpty {
            let canonicalSegment = try Self.canonicalSegment(segment)
            let isLast = index == rawSegments.count - 1
            if canonicalSegment == [0x2E] {
                if isLast { trailingSlash = true }
            } else if canonicalSegment == [0x2E, 0x2E] {
                if !output.isEmpty { output.removeLast() }
                if isLast { trailingSlash = true }
            } else {
                output.append(canonicalSegment)
            }
        }
        var canonicalBytes: [UInt8] = []
        for segment in output {
            canonicalBytes.append(UInt8(ascii: "/"))
            canonicalBytes += segment
        }
        if canonicalBytes.isEmpty || trailingSlash { canonicalBytes.append(UInt8(ascii: "/")) }
        var segments: [String] = []
        for segment in output { segments.append(try Self.text(Self.decoded(segment))) }

        // A lenient upstream's reading, and a double-decoding one's.
        let once = try Self.decoded(bytes)
        var readings = [routerReading, try Self.lenientReading(once)]
        if once.contains(UInt8(ascii: "%")), let twice = try? Self.decoded(once, strict: true) {
            readings.append(try Self.lenientReading(twice))
        }
        var alternatives: [[String]] = []
        for reading in readings where reading != segments && !alternatives.contains(reading) { alternatives.append(reading) }

        self.raw = raw
        self.canonical = String(decoding: canonicalBytes, as: UTF8.self)
        self.segments = segments
        self.alternativeReadings = alternatives
    }

    /// Every reading: the canonical one first.
    var readings: [[String]] { [segments] + alternativeReadings }

    // MARK: - Helpers

    /// `http://host/path` → `/path`; anything else unchanged.
    private static func originForm(_ bytes: [UInt8]) -> [UInt8] {
        for scheme in ["http://", "https://"] {
            let prefix = Array(scheme.utf8)
            guard bytes.count >= prefix.count, zip(bytes, prefix).allSatisfy({ $0 | 0x20 == $1 | 0x20 }) else { continue }
            let rest = bytes[prefix.count...]
            guard let slash = rest.firstIndex(of: UInt8(ascii: "/")) else { return [UInt8(ascii: "/")] }
            return Array(bytes[slash...])
        }
        return bytes
    }

    private static func isUnreserved(_ b: UInt8) -> Bool {
        (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || (0x30...0x39).contains(b) || b == 0x2D || b == 0x2E || b == 0x5F
            || b == 0x7E
    }

    /// Bytes allowed raw in a canonical segment: unreserved, sub-delims, `:` and `@`.
    private static func isPathCharacter(_ b: UInt8) -> Bool {
        isUnreserved(b) || "!$&'()*+,;=:@".utf8.contains(b)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x61...0x66: b - 0x61 + 10
        case 0x41...0x46: b - 0x41 + 10
        default: nil
        }
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// One raw segment in canonical form.
    private static func canonicalSegment(_ segment: [UInt8]) throws(RequestPathError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(segment.count)
        var i = 0
        while i < segment.count {
            let b = segment[i]
            if b == UInt8(ascii: "%") {
                guard i + 2 < segment.count, let hi = hexValue(segment[i + 1]), let lo = hexValue(segment[i + 2]) else {
                    throw .malformedPercentEncoding
                }
                let value = hi << 4 | lo
                if isUnreserved(value) {
                    out.append(value)
                } else {
                    out += [UInt8(ascii: "%"), hexDigits[Int(hi)], hexDigits[Int(lo)]]
                }
                i += 3
            } else {
                if isPathCharacter(b) {
                    out.append(b)
                } else {
                    out += [UInt8(ascii: "%"), hexDigits[Int(b >> 4)], hexDigits[Int(b & 0x0F)]]
                }
                i += 1
            }
        }
        return out
    }

    /// Percent-decodes `bytes`; refuses invalid escapes (when `strict`) and decoded control characters.
    static func decoded(_ bytes: [UInt8], strict: Bool = true) throws(RequestPathError) -> [UInt8] {
        guard bytes.contains(UInt8(ascii: "%")) else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) else {
                    if strict { throw .malformedPercentEncoding }
                    out.append(bytes[i])
                    i += 1
                    continue
                }
                let value = hi << 4 | lo
                if value < 0x20 || value == 0x7F { throw .controlCharacter }
                out.append(value)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    /// Valid UTF-8 → NFC text.
    private static func text(_ bytes: [UInt8]) throws(RequestPathError) -> String {
        let s = String(decoding: bytes, as: UTF8.self)
        guard s.utf8.elementsEqual(bytes) else { throw .invalidUTF8 }
        return s.precomposedStringWithCanonicalMapping
    }

    /// How a lenient upstream reads a decoded path: `\` is `/`, `;parameters` are dropped, as are
    /// trailing dots and spaces of a segment; then dot segments are removed.
    private static func lenientReading(_ decoded: [UInt8]) throws(RequestPathError) -> [String] {
        let slashed = decoded.map { $0 == UInt8(ascii: "\\") ? UInt8(ascii: "/") : $0 }
        var out: [String] = []
        for part in slashed.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            var segment = Array(part)
            if let semicolon = segment.firstIndex(of: UInt8(ascii: ";")) { segment = Array(segment[..<semicolon]) }
            let isDots = !segment.isEmpty && segment.allSatisfy { $0 == 0x2E }
            if segment == [0x2E, 0x2E] {
                if !out.isEmpty { out.removeLast() }
                continue
            }
            if isDots { continue }
            while let last = segment.last, last == 0x2E || last == 0x20 { segment.removeLast() }
            if segment.isEmpty { continue }
            out.append(try text(segment))
        }
        return out
    }
}

/// Why a request path is refused.
public enum RequestPathError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Longer than ``RequestPath/maximumLength`` bytes (414).
    case tooLong(Int)
    /// Does not start with `/`.
    case notOriginForm
    /// Contains `#`.
    case fragment
    /// Contains a control character, raw or percent-encoded (`%00`–`%1F`, `%7F`).
    case controlCharacter
    /// A `%` not followed by two hex digits.
    case malformedPercentEncoding
    /// Decodes to invalid UTF-8.
    case invalidUTF8
    /// Can be read as a different path by the router or upstream, and one reading is a paid route.
    case ambiguous

    /// The HTTP status of the refusal.
    public var status: HTTPResponse.Status {
        if case .tooLong = self { return .uriTooLong }
        return .badRequest
    }

    public var description: String {
        switch self {
        case .tooLong(let n): "the request path is \(n) bytes long; at most \(RequestPath.maximumLength) are accepted"
        case .notOriginForm: "the request path must start with /"
        case .fragment: "the request path must not contain a fragment (#)"
        case .controlCharacter: "the request path contains a control character"
        case .malformedPercentEncoding: "the request path contains an invalid percent escape"
        case .invalidUTF8: "the request path does not decode to UTF-8"
        case .ambiguous:
            "the request path is ambiguous (dot segments, encoded / or \\, or ;parameters) and may reach a paid resource; send its canonical form"
        }
    }

    /// The refusal as a response (`{"error": "…"}`, `Cache-Control: no-store`).
    public var response: ServerResponse {
        ServerResponse.json(status, ["error": .string(description)], headers: [.cacheControl: "no-store"])
    }
}
