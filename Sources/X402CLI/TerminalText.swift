/// Makes peer-supplied text (anything from a 402 answer, a receipt, a redirect, or the ledger's
/// copy of them) safe to print on a terminal.
///
/// Every control or invisible formatting character is replaced by a visible escape, so a server
/// cannot move the cursor, rewrite a line (CR, ESC/CSI/OSC sequences), reorder text (bidi
/// overrides and isolates) or hide characters (zero-width) in what the user reads:
/// - C0 controls (U+0000–U+001F) and DEL (U+007F): `\r`, `\n`, `\t`, `\e`, else `\u{XX}`;
/// - C1 controls (U+0080–U+009F), bidi marks, embeddings, overrides and isolates (U+061C,
///   U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), zero-width and invisible characters
///   (U+200B–U+200D, U+2060–U+2064, U+FEFF), line and paragraph separators (U+2028, U+2029):
///   `\u{XXXX}`.
/// Text longer than `limit` characters is cut and ends with `…`.
enum TerminalText {
    static func escape(_ text: String, limit: Int = 512) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit {
                out += "…"
                break
            }
            count += 1
            let v = scalar.value
            switch v {
            case 0x0D: out += "\\r"
            case 0x0A: out += "\\n"
            case 0x09: out += "\\t"
            case 0x1B: out += "\\e"
            case 0x00...0x1F, 0x7F...0x9F, 0x061C, 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x2064, 0x2066...0x2069, 0xFEFF:
                out += "\\u{" + String(v, radix: 16, uppercase: true) + "}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// Shorthand for ``TerminalText/escape(_:limit:)``: use it on every peer string printed for a human.
func peer(_ text: String) -> String { TerminalText.escape(text) }
