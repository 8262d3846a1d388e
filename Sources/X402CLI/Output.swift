import Foundation
import X402

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure reported on stderr with exit code 1.
struct BuyerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What the buyer's commands write: one line to stderr, one JSON object to stdout.
enum BuyerOutput {
    /// Writes one line to stderr.
    static func warn(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Writes one JSON object (one line) to stdout.
    static func printJSON(_ object: JSONObject) {
        FileHandle.standardOutput.write(Data(JSONValue.object(object).serialized() + [UInt8(ascii: "\n")]))
    }

    static func write(_ bytes: [UInt8]) {
        FileHandle.standardOutput.write(Data(bytes))
    }

    /// Whether stdin and stderr are terminals (an interactive user can answer a prompt).
    static var isInteractive: Bool { isatty(0) == 1 && isatty(2) == 1 }
}
