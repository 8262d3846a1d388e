package import Hummingbird
package import NIOCore

// A Hummingbird application on an ephemeral port of 127.0.0.1 for the duration of a test body.
//
// HummingbirdTesting's `.live` framework binds `localhost` (which may be ::1) and wants a `@Sendable`
// body; these tests dial 127.0.0.1 from other clients (AsyncHTTPClient, URLSession, the `x402`
// binary, a gateway in front of the upstream), so they keep this small helper.

/// A port reported by a server once it listens.
package actor PortBox {
    private var port: Int?
    private var waiters: [CheckedContinuation<Int, Never>] = []

    package init() {}

    package func set(_ p: Int) {
        port = p
        for w in waiters { w.resume(returning: p) }
        waiters = []
    }

    package func wait() async -> Int {
        if let port { return port }
        return await withCheckedContinuation { waiters.append($0) }
    }
}

/// Runs the application `make` builds (handing it the `onServerRunning` callback) on a free
/// loopback port for the duration of `body`, which gets the port; then stops it.
package func serving<App: ApplicationProtocol & Sendable>(
    _ make: (@escaping @Sendable (any Channel) async -> Void) -> App, _ body: (Int) async throws -> Void
) async throws {
    let box = PortBox()
    let app = make { channel in await box.set(channel.localAddress?.port ?? 0) }
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.runService(gracefulShutdownSignals: []) }
        let port = await box.wait()
        do {
            try await body(port)
        } catch {
            group.cancelAll()
            throw error
        }
        group.cancelAll()
    }
}

/// Starts the application `make` builds on a free loopback port and returns that port and the task
/// running it, for a server that outlives one scope; cancel the task to stop it.
package func startServing<App: ApplicationProtocol & Sendable>(
    _ make: (@escaping @Sendable (any Channel) async -> Void) -> App
) async -> (port: Int, task: Task<Void, any Error>) {
    let box = PortBox()
    let app = make { channel in await box.set(channel.localAddress?.port ?? 0) }
    let task = Task { try await app.runService(gracefulShutdownSignals: []) }
    return (await box.wait(), task)
}

/// Runs `router` on an ephemeral loopback port while `body` runs with its base URL, then stops it.
package func withLoopbackServer(
    _ router: Router<BasicRequestContext>, _ body: (_ base: String) async throws -> Void
) async throws {
    try await serving({ running in
        Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: running)
    }) { port in
        try await body("http://127.0.0.1:\(port)")
    }
}
