/// Groups work that arrives close together: an item waits at most ``window`` for company, a full
/// batch (``maximumBatch``) leaves at once, and each caller gets its own answer from the batch.
///
/// The batcher only groups; what a batch does is the `run` closure handed in with each item (the
/// first item's closure runs the batch), which must return one answer per item, in order. An
/// item the closure gives no answer for gets the `unanswered` answer of its own call.
actor WindowBatcher<Item: Sendable, Answer: Sendable> {
    typealias Run = @Sendable ([Item]) async -> [Answer]

    private struct Waiter {
        let item: Item
        let run: Run
        let unanswered: Answer
        let continuation: CheckedContinuation<Answer, Never>
    }

    let window: Duration
    let maximumBatch: Int
    private var queue: [Waiter] = []
    private var timer: Task<Void, Never>?
    /// Which window ``timer`` belongs to.
    private var generation: UInt64 = 0
    /// Batches handed to a `run` closure (for tests and metrics).
    private(set) var batchesRun = 0
    /// The largest batch handed to a `run` closure.
    private(set) var largestBatch = 0

    init(window: Duration, maximumBatch: Int) {
        self.window = window
        self.maximumBatch = max(1, maximumBatch)
    }

    /// The answer for `item`, after at most ``window`` of waiting for others.
    func submit(_ item: Item, unanswered: Answer, run: @escaping Run) async -> Answer {
        await withCheckedContinuation { continuation in
            queue.append(Waiter(item: item, run: run, unanswered: unanswered, continuation: continuation))
            if queue.count >= maximumBatch {
                flush()
            } else if timer == nil {
                let window = self.window
                generation &+= 1
                let generation = self.generation
                timer = Task { [weak self] in
                    do { try await Task.sleep(for: window) } catch { return }
                    await self?.timerFired(generation)
                }
            }
        }
    }

    /// A window ended: flush, unless that window's queue already left (a full batch) and a newer
    /// window is running.
    private func timerFired(_ generation: UInt64) {
        guard generation == self.generation else { return }
        flush()
    }

    private func flush() {
        timer?.cancel()
        timer = nil
        while !queue.isEmpty {
            let taken = Array(queue.prefix(maximumBatch))
            queue.removeFirst(taken.count)
            batchesRun += 1
            largestBatch = max(largestBatch, taken.count)
            Task { await Self.run(taken) }
        }
    }

    private static func run(_ waiters: [Waiter]) async {
        guard let run = waiters.first?.run else { return }
        let answers = await run(waiters.map(\.item))
        for (index, waiter) in waiters.enumerated() {
            waiter.continuation.resume(returning: index < answers.count ? answers[index] : waiter.unanswered)
        }
    }
}
