public import Foundation

/// The CAIP-122 message text a sign-in signs: EIP-4361 (SIWE) for `eip155:*` chains, the SIWS
/// form for `solana:*`. Lines are joined with `\n`, with no trailing newline.
public enum SignInMessage {
    /// The message for `fields` signed by `address`.
    ///
    /// - Throws: ``SignInWithXFailure`` (`invalid_siwx_chain_id`, `invalid_siwx_unsupported_chain`)
    ///   when the chain id has no message form; `invalid_siwx_payload` when a field would not stay
    ///   on its line (a line break or other control character).
    public static func text(_ fields: SignInFields, address: String) throws(SignInWithXFailure) -> String {
        // Every field is one line of the message: a line break (or any control character) in one
        // would let a field's text pose as other lines of the message.
        let all =
            [fields.domain, address, fields.uri, fields.version, fields.chainID, fields.nonce, fields.issuedAt]
            + [fields.statement, fields.expirationTime, fields.notBefore, fields.requestID].compactMap { $0 } + (fields.resources ?? [])
        guard all.allSatisfy(isSingleLine) else {
            throw SignInWithXFailure(.siwxInvalidPayload, "a sign-in field holds a line break or another control character")
        }
        if fields.chainID.hasPrefix("eip155:") {
            guard let number = evmChainNumber(fields.chainID) else {
                throw SignInWithXFailure(.siwxChainID, "chain id must be eip155:<decimal>")
            }
            return ethereum(fields, address: address, chainNumber: number)
        }
        if fields.chainID.hasPrefix("solana:") {
            let reference = String(fields.chainID.dropFirst("solana:".count))
            guard !reference.isEmpty else { throw SignInWithXFailure(.siwxChainID, "chain id must be solana:<reference>") }
            return solana(fields, address: address, reference: reference)
        }
        throw SignInWithXFailure(.siwxUnsupportedChain, "unsupported chain namespace; supported: eip155:*, solana:*")
    }

    /// No control character (C0 with line breaks, DEL, C1) and no Unicode line or paragraph separator.
    static func isSingleLine(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            let v = scalar.value
            return v >= 0x20 && !(0x7F...0x9F).contains(v) && v != 0x2028 && v != 0x2029
        }
    }

    /// The decimal chain number of `eip155:<digits>` (at most 18 digits), or `nil`.
    public static func evmChainNumber(_ chainID: String) -> UInt64? {
        guard chainID.hasPrefix("eip155:") else { return nil }
        let digits = chainID.utf8.dropFirst(7)
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return UInt64(String(decoding: digits, as: UTF8.self))
    }

    static func ethereum(_ f: SignInFields, address: String, chainNumber: UInt64) -> String {
        var lines = ["\(f.domain) wants you to sign in with your Ethereum account:", address, ""]
        // Without a statement EIP-4361 keeps two empty lines between the address and `URI:`.
        if let statement = f.statement { lines.append(statement) }
        lines.append("")
        lines += ["URI: \(f.uri)", "Version: \(f.version)", "Chain ID: \(chainNumber)", "Nonce: \(f.nonce)", "Issued At: \(f.issuedAt)"]
        lines += tail(f)
        return lines.joined(separator: "\n")
    }

    static func solana(_ f: SignInFields, address: String, reference: String) -> String {
        var lines = ["\(f.domain) wants you to sign in with your Solana account:", address, ""]
        // As the reference formatters: an empty statement or request id is no line at all.
        if let statement = f.statement, !statement.isEmpty {
            lines.append(statement)
            lines.append("")
        }
        lines += ["URI: \(f.uri)", "Version: \(f.version)", "Chain ID: \(reference)", "Nonce: \(f.nonce)", "Issued At: \(f.issuedAt)"]
        lines += tail(f, omitsEmptyRequestID: true)
        return lines.joined(separator: "\n")
    }

    private static func tail(_ f: SignInFields, omitsEmptyRequestID: Bool = false) -> [String] {
        var lines: [String] = []
        if let e = f.expirationTime { lines.append("Expiration Time: \(e)") }
        if let n = f.notBefore { lines.append("Not Before: \(n)") }
        if let r = f.requestID, !(omitsEmptyRequestID && r.isEmpty) { lines.append("Request ID: \(r)") }
        if let resources = f.resources, !resources.isEmpty {
            lines.append("Resources:")
            lines += resources.map { "- \($0)" }
        }
        return lines
    }
}

/// ISO-8601 / RFC 3339 times as the sign-in fields carry them: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
/// Parsed by hand in bounded time (no locale, no calendar); written as JavaScript's
/// `toISOString()` does (milliseconds, `Z`).
public enum SignInTime {
    /// Parses an RFC 3339 date-time; `nil` when malformed (at most 9 fraction digits, years 1970–9999).
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8.prefix(40))
        guard text.utf8.count <= 40, b.count >= 20 else { return nil }
        func digits(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var v = 0
            for i in from..<(from + count) {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                v = v * 10 + Int(b[i] - 0x30)
            }
            return v
        }
        guard let year = digits(0, 4), b[4] == 0x2D, let month = digits(5, 2), b[7] == 0x2D, let day = digits(8, 2),
            b[10] == 0x54 || b[10] == 0x74, let hour = digits(11, 2), b[13] == 0x3A, let minute = digits(14, 2), b[16] == 0x3A,
            let second = digits(17, 2)
        else { return nil }
        guard year >= 1970, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60, second < 60
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == 0x2E {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                fraction += Double(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > start, i - start <= 9 else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == 0x5A || b[i] == 0x7A {
            i += 1
        } else if b[i] == 0x2B || b[i] == 0x2D {
            guard let oh = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == 0x3A, let om = digits(i + 4, 2), oh < 24, om < 60 else { return nil }
            offset = (oh * 60 + om) * 60 * (b[i] == 0x2B ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// `date` as JavaScript's `toISOString()` writes it: `2024-01-15T10:30:00.000Z`.
    public static func format(_ date: Date) -> String {
        let total = date.timeIntervalSince1970
        let millis = Int((total * 1000).rounded(.down))
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let ms = millis - seconds * 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        let (y, m, d) = civilFromDays(days)
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rest / 3600, 2)):\(pad(rest / 60 % 60, 2)):\(pad(rest % 60, 2)).\(pad(ms, 3))Z"
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's civil-date algorithms.
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
