package import Foundation

/// What one run of a child process produced.
package struct ProcessOutput: Sendable {
    package let status: Int32
    package let stdout: String
    package let stderr: String
}

/// Runs `executable arguments…` to its end and returns its exit status and output. The child gets this
/// process's environment without its `X402_` variables, plus `environment`; its stdin is /dev/null, or a
/// pipe that `input` is written to once it runs. Stdout and stderr go through files in `scratch`
/// (removed afterwards), so a chatty child never blocks on a full pipe; with `mergingStderr` both go
/// to `stdout`.
package func runProcess(
    _ executable: URL, _ arguments: [String], environment extra: [String: String] = [:],
    scratch: URL = FileManager.default.temporaryDirectory, input: String? = nil, mergingStderr: Bool = false
) async throws -> ProcessOutput {
    var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("X402_") }
    for (k, v) in extra { environment[k] = v }
    let outURL = scratch.appendingPathComponent("x402-out-\(UUID().uuidString)")
    let errURL = scratch.appendingPathComponent("x402-err-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = environment
    let stdin = input.map { _ in Pipe() }
    process.standardInput = stdin ?? FileHandle.nullDevice
    process.standardOutput = out
    process.standardError = mergingStderr ? out : err
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { p in continuation.resume(returning: p.terminationStatus) }
        do {
            try process.run()
            if let stdin, let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    try? stdin?.fileHandleForWriting.close()
    try out.close()
    try err.close()
    return ProcessOutput(
        status: status, stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
}
