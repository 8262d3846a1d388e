public import ServiceLifecycle

/// Runs settlements outside the request's task, so a client hanging up or a shutdown signal never
/// interrupts one between broadcast and confirmation, and lets shutdown wait for them.
public actor SettlementTracker {
    private var running = 0
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private let onChange: @Sendable (Int) -> Void

    public init(onChange: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.onChange = onChange
    }

    /// The number of settlements under way.
    public var inFlight: Int { running }

    /// Runs `operation` to completion in its own task (not cancelled with the caller) and returns its result.
    public func run<T: Sendable>(_ operation: @escaping @Sendable () async -> T) async -> T {
        running += 1
        onChange(running)
        let task = Task { await operation() }
        let result = await task.value
        running -= 1
        onChange(running)
        if running == 0 {
            let waiters = idleWaiters
            idleWaiters = []
            for waiter in waiters { waiter.resume() }
        }
        return result
    }

    /// Returns once no settlement is under way.
    public func waitUntilIdle() async {
        if running == 0 { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }
}

/// A lifecycle service that, on graceful shutdown, waits for in-flight settlements to finish.
public struct SettlementDrainService: Service {
    let tracker: SettlementTracker

    public init(tracker: SettlementTracker) { self.tracker = tracker }

    public func run() async throws {
        // Sleeps until shutdown is requested (or the task is cancelled), then drains.
        try? await gracefulShutdown()
        await tracker.waitUntilIdle()
    }
}
