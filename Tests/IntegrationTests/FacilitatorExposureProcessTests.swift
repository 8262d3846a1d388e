import Foundation
import Testing

/// `x402 facilitator serve` refuses to listen on a non-loopback address without bearer tokens
/// (security review F9): a real child process, no chain needed (the check runs before any RPC).
@Suite("x402 facilitator serve: exposure without auth")
struct FacilitatorExposureProcessTests {
    /// Runs the CLI with `arguments` and a throwaway key; returns the exit status and stderr.
    static func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = try x402Executable()
        process.arguments =
            [
                "facilitator", "serve", "--network", "eip155:84532=http://127.0.0.1:1", "--signer-key-env", "X402_EXPOSURE_KEY",
                "--database", "memory", "--port", "0",
            ] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["X402_EXPOSURE_KEY"] = "0x" + String(repeating: "22", count: 32)
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let errors = Pipe()
        let collected = Collected()
        errors.fileHandleForReading.readabilityHandler = { handle in collected.append(handle.availableData) }
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // A refused start exits at once; an accepted one logs that it listens, and is then stopped.
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning, !collected.text.contains("x402 facilitator listening"), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            errors.fileHandleForReading.readabilityHandler = nil
            return (-1, collected.text)
        }
        process.waitUntilExit()
        errors.fileHandleForReading.readabilityHandler = nil
        collected.append(errors.fileHandleForReading.readDataToEndOfFile())
        return (process.terminationStatus, collected.text)
    }

    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        func append(_ more: Data) { lock.withLock { data.append(more) } }
        var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
    }

    @Test("--host 0.0.0.0 without tokens exits non-zero naming the fix; with --insecure-no-auth or tokens it starts")
    func nonLoopbackWithoutTokens() throws {
        let (status, text) = try Self.run(["--host", "0.0.0.0"])
        #expect(status != 0 && status != -1, "\(status) \(text)")
        #expect(text.contains("without bearer tokens"), "\(text)")
        let (insecure, started) = try Self.run(["--host", "0.0.0.0", "--insecure-no-auth"])
        #expect(insecure == -1 && started.contains("x402 facilitator listening"), "with --insecure-no-auth the service should start: \(started)")
        let (tokens, _) = try Self.run(
            ["--host", "0.0.0.0", "--bearer-token-env", "X402_EXPOSURE_TOKENS"], environment: ["X402_EXPOSURE_TOKENS": "t0k3n"])
        #expect(tokens == -1, "with bearer tokens the service should start")
    }
}
