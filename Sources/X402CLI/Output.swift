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
    /// Set while `x402 mcp` runs a command for a tool call: the command's stdout is collected
    /// here instead (stdout carries the MCP protocol), and nobody is at a terminal to answer.
    @TaskLocal static var capture: OutputCapture?

    /// Writes one line to stderr.
    static func warn(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Writes one JSON object (one line) to stdout.
    static func printJSON(_ object: JSONObject) {
        if let capture {
            capture.append(object)
            return
        }
        FileHandle.standardOutput.write(Data(JSONValue.object(object).serialized() + [UInt8(ascii: "\n")]))
    }

    static func write(_ bytes: [UInt8]) {
        if capture != nil { return }
        FileHandle.standardOutput.write(Data(bytes))
    }

    /// Whether stdin and stderr are terminals (an interactive user can answer a prompt); never
    /// while a command runs for an MCP tool call.
    static var isInteractive: Bool { capture == nil && isatty(0) == 1 && isatty(2) == 1 }
}

/// The JSON objects a command printed while it ran for an MCP tool call.
final class OutputCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var objects: [JSONObject] = []

    func append(_ object: JSONObject) { lock.withLock { objects.append(object) } }

    /// The last object printed (each `--json` command prints one).
    var last: JSONObject? { lock.withLock { objects.last } }
}
