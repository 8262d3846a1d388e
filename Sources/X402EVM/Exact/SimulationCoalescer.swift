import X402

/// Simulates EIP-3009 transfers that arrive close together in one `eth_call` of Multicall3
/// `aggregate3` (every call with `allowFailure`), and tells each caller what its own transfer did.
///
/// A request waits at most ``window`` for company; a full batch (``maximumBatch``) leaves at once.
/// The calls of one batch run in turn on the state the earlier ones left, so an answer is handed
/// back only where it is provably the answer the transfer would have had alone; every other
/// request is told to simulate alone (``Verdict/alone``):
/// * a transfer whose payer is paid by an earlier transfer of the batch (same token) is not put in
///   the batch at all: the credit could make it pass where alone it would fail;
/// * a transfer that failed while another transfer of the batch debits the same payer (same token)
///   is simulated again alone: the debit, or a shared nonce, could be why it failed. (A success
///   is final: less balance and more used nonces cannot turn a failure alone into a success.)
/// * a failure without revert data (the node's message would have been the reason), a batch the
///   node refused, and a chain without Multicall3 code all fall back to one-by-one.
actor SimulationCoalescer {
    /// What a caller learns about its transfer.
    enum Verdict: Sendable, Equatable {
        /// The transfer succeeded in the batch (and so would alone).
        case success
        /// The transfer reverted with this revert data (and so would alone).
        case reverted([UInt8])
        /// Simulate alone: the batch cannot tell what the transfer would do by itself.
        case alone
    }

    /// One transfer to simulate.
    struct Item: Sendable {
        let token: EthereumAddress
        let payer: EthereumAddress
        let payee: EthereumAddress
        let calldata: [UInt8]
    }

    private let client: any EthereumClient
    private let state: ChainState
    private let caller: EthereumAddress
    private let batcher: WindowBatcher<Item, Verdict>
    nonisolated var window: Duration { batcher.window }
    nonisolated var maximumBatch: Int { batcher.maximumBatch }
    /// Batches sent to the node (for tests and metrics).
    private(set) var batchesSent = 0
    /// Transfers whose verdict came from a batch (not ``Verdict/alone``), for tests and metrics.
    private(set) var answeredInBatch = 0

    init(client: any EthereumClient, state: ChainState, caller: EthereumAddress, window: Duration, maximumBatch: Int) {
        self.client = client
        self.state = state
        self.caller = caller
        self.batcher = WindowBatcher(window: window, maximumBatch: maximumBatch)
    }

    /// The verdict for one transfer, after at most ``window`` of waiting for others.
    func simulate(_ item: Item) async -> Verdict {
        await batcher.submit(item, unanswered: .alone) { items in await self.verdicts(for: items) }
    }

    /// One verdict per item, in order.
    func verdicts(for items: [Item]) async -> [Verdict] {
        var verdicts = [Verdict](repeating: .alone, count: items.count)
        // Members of the batch: no payer credited by an earlier member (same token).
        var credited: Set<Account> = []
        var members: [Int] = []
        for (index, item) in items.enumerated() {
            if credited.contains(Self.key(item.token, item.payer)) { continue }
            members.append(index)
            credited.insert(Self.key(item.token, item.payee))
        }
        guard members.count > 1, await state.hasMulticall3() else { return verdicts }
        var debits: [Account: Int] = [:]
        for index in members { debits[Self.key(items[index].token, items[index].payer), default: 0] += 1 }
        let data = EIP3009Calls.aggregate3(members.map { (items[$0].token, items[$0].calldata) })
        batchesSent += 1
        guard
            let answer = try? await client.call(CallRequest(from: caller, to: EIP3009Calls.multicall3, data: data), at: .pending),
            let results = EIP3009Calls.decodeTryAggregate(answer), results.count == members.count
        else { return verdicts }
        for (position, index) in members.enumerated() {
            let result = results[position]
            if result.success {
                verdicts[index] = .success
            } else if !result.data.isEmpty, debits[Self.key(items[index].token, items[index].payer)] == 1 {
                verdicts[index] = .reverted(result.data)
            } else {
                continue
            }
            answeredInBatch += 1
        }
        return verdicts
    }

    /// An account's holding of one token.
    private struct Account: Hashable {
        let token: EthereumAddress
        let holder: EthereumAddress
    }

    private static func key(_ token: EthereumAddress, _ holder: EthereumAddress) -> Account {
        Account(token: token, holder: holder)
    }
}
