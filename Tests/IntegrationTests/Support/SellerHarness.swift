import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import Testing
import X402
import X402TestSupport

// Shared pieces of the seller-side integration tests (Hummingbird seller, browser paywall):
// a Hummingbird app on a free loopback port, a long-running Python SDK tool, and plain HTTP.

/// Counts how often a handler ran.
actor HitCounter {
    private(set) var count = 0
    func hit() { count += 1 }
}

/// A Hummingbird application serving on a free port of 127.0.0.1 until stopped.
struct RunningApp: Sendable {
    let url: String
    let task: Task<Void, any Error>

    static func start(_ router: Router<BasicRequestContext>) async -> RunningApp {
        let (port, task) = await startServing { running in
            Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: running)
        }
        return RunningApp(url: "http://127.0.0.1:\(port)", task: task)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

/// A buffered answer of ``SellerHTTP/send(_:method:headers:body:)``.
struct PlainResponse: Sendable {
    let status: Int
    let headers: [(name: String, value: String)]
    let body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? { headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value }
}

enum SellerHTTP {
    /// One request without any payment logic.
    static func send(
        _ url: String, method: String = "GET", headers: [(String, String)] = [], body: [UInt8]? = nil
    ) async throws -> PlainResponse {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(90))
        let bytes = try await response.body.collect(upTo: 1 << 22)
        return PlainResponse(
            status: Int(response.status.code), headers: response.headers.map { (name: $0.name, value: $0.value) },
            body: Array(bytes.readableBytesView))
    }
}

/// The repository root (for `Tools/…`).
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The first line a child process writes to `pipe` (without the newline; everything up to EOF if
/// it writes none). Read on a thread of its own, never a pool thread: the child may take seconds
/// (Python imports), and blocking pool threads would stall the in-process services of the test.
func firstLine(of pipe: Pipe) async -> [UInt8] {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            var bytes: [UInt8] = []
            while true {
                let chunk = pipe.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                bytes += chunk
                if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) {
                    bytes = Array(bytes[..<newline])
                    break
                }
            }
            continuation.resume(returning: bytes)
        }
    }
}

/// A long-running tool of `Tools/interop` (e.g. `py_server.py`): started through `run.sh`, its
/// first stdout line is the JSON "ready" line; stopped with SIGTERM. Secrets travel in `environment`.
final class PythonService: Sendable {
    let process: Process
    let ready: JSONValue
    let logPath: String

    private init(process: Process, ready: JSONValue, logPath: String) {
        self.process = process
        self.ready = ready
        self.logPath = logPath
    }

    static func start(_ tool: String, _ arguments: [String], environment extra: [String: String] = [:]) async throws -> PythonService {
        let logPath = FileManager.default.temporaryDirectory.appendingPathComponent("x402-\(tool)-\(UUID().uuidString).log").path
        let process = Process()
        process.executableURL = repositoryRoot.appendingPathComponent("Tools/interop/run.sh")
        process.arguments = [tool] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let output = Pipe()
        process.standardOutput = output
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let line = await firstLine(of: output)
        guard let ready = try? JSONValue(parsing: line), ready["error"] == nil, ready["url"] != nil else {
            kill(process.processIdentifier, SIGKILL)
            let logText = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw PythonServiceFailed(description: "\(tool) did not start: \(String(decoding: line, as: UTF8.self)) \(logText.suffix(2000))")
        }
        return PythonService(process: process, ready: ready, logPath: logPath)
    }

    var url: String { ready["url"]?.stringValue ?? "" }

    /// The tail of the tool's stderr (for failure messages).
    var logTail: String { String(((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").suffix(2000)) }

    /// SIGTERM, then SIGKILL if the tool has not exited within two seconds (uvicorn may wait
    /// for keep-alive connections to close).
    func stop() async {
        if process.isRunning {
            process.terminate()
            for _ in 0..<20 where process.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(atPath: logPath)
    }

    /// Runs a one-shot tool of `Tools/interop` (e.g. `py_client.py`) and returns its one-line JSON
    /// result. stdout is read to its end on a thread of its own; stderr goes to a temporary file.
    static func run(_ tool: String, _ arguments: [String], environment extra: [String: String] = [:]) async throws -> JSONValue {
        let logPath = FileManager.default.temporaryDirectory.appendingPathComponent("x402-\(tool)-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        let process = Process()
        process.executableURL = repositoryRoot.appendingPathComponent("Tools/interop/run.sh")
        process.arguments = [tool] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? log.close() }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data: Data = await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: output.fileHandleForReading.readDataToEndOfFile()) }
        }
        guard let result = try? JSONValue(parsing: Array(data)), result["error"] == nil else {
            let logText = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw PythonServiceFailed(description: "\(tool) failed: \(String(decoding: data, as: UTF8.self)) \(logText.suffix(2000))")
        }
        return result
    }
}

struct PythonServiceFailed: Error, CustomStringConvertible {
    let description: String
}
