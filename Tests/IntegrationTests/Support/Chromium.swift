import Foundation
import Testing

/// Headless Chromium for the paywall tests: `X402_CHROMIUM`, else `chromium-headless-shell` or
/// `chromium` on the usual paths. CI (`.ci/run`) installs `chromium-headless-shell`.
enum Chromium {
    static var path: String? {
        if let configured = ProcessInfo.processInfo.environment["X402_CHROMIUM"], !configured.isEmpty { return configured }
        let candidates = [
            "/usr/bin/chromium-headless-shell", "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/local/bin/chromium-headless-shell",
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var unavailableMessage: String {
        "headless Chromium not found (set X402_CHROMIUM or install chromium-headless-shell)"
    }

    /// Loads `url` in a fresh profile, lets the page's scripts run for `budget` of virtual time
    /// (Chromium does not advance it while network requests are pending), and returns the
    /// serialised DOM. Killed after `timeout` of wall-clock time.
    static func dumpDOM(_ url: String, budget: Duration = .seconds(20), timeout: Duration = .seconds(120)) async throws -> String {
        guard let path else { throw ChromiumUnavailable(description: unavailableMessage) }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("x402-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: profile) }
        let milliseconds = budget.components.seconds * 1000 + budget.components.attoseconds / 1_000_000_000_000_000
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--user-data-dir=\(profile.path)", "--virtual-time-budget=\(milliseconds)", "--dump-dom", url,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = DispatchTime.now() + .seconds(Int(timeout.components.seconds))
        DispatchQueue.global().asyncAfter(deadline: deadline) { if process.isRunning { process.terminate() } }
        let data: Data = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: data)
            }
        }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw ChromiumUnavailable(
                description: "chromium exited with \(process.terminationStatus) (\(process.terminationReason == .exit ? "exit" : "signal"))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

struct ChromiumUnavailable: Error, CustomStringConvertible {
    let description: String
}

extension Trait where Self == ConditionTrait {
    /// Runs when headless Chromium is installed; in CI (`CI` set) it always runs, so a missing
    /// browser fails the test instead of skipping it.
    static var chromium: Self {
        .enabled(Comment(rawValue: Chromium.unavailableMessage)) { Chromium.path != nil || Devnet.isCI }
    }
}
