public import X402

/// One independent read of chain state, so that several can travel together (one JSON-RPC batch).
public enum ChainRead: Sendable, Hashable {
    /// `eth_chainId`.
    case chainID
    /// `eth_blockNumber`.
    case blockNumber
    /// `eth_getCode`.
    case code(EthereumAddress, BlockTag)
    /// `eth_getBalance`.
    case balance(EthereumAddress, BlockTag)
    /// `eth_call` (a revert is the read's own `EthereumClientError/node(code:message:data:)` failure).
    case call(CallRequest, BlockTag)
    /// `eth_gasPrice`.
    case gasPrice
    /// `eth_maxPriorityFeePerGas`.
    case maxPriorityFeePerGas
    /// `eth_feeHistory`.
    case feeHistory(blockCount: Int, newestBlock: BlockTag, rewardPercentiles: [Double])
}

/// The answer to one ``ChainRead``.
public enum ChainReadResult: Sendable, Hashable {
    /// A number: chain id, block number, balance, gas price or tip.
    case quantity(UInt256)
    /// Bytes: code or call output.
    case data([UInt8])
    /// Fee history.
    case feeHistory(FeeHistory)

    /// The number, if this is one that fits 64 bits.
    public var uint64: UInt64? {
        guard case .quantity(let value) = self else { return nil }
        return value.asUInt64
    }

    /// The number, if this is a quantity.
    public var uint256: UInt256? {
        if case .quantity(let value) = self { return value }
        return nil
    }

    /// The bytes, if this is code or call output.
    public var bytes: [UInt8]? {
        if case .data(let value) = self { return value }
        return nil
    }

    /// The fee history, if this is one.
    public var history: FeeHistory? {
        if case .feeHistory(let value) = self { return value }
        return nil
    }
}

extension EthereumClient {
    /// Performs the reads one after the other through the single-call methods: the default for
    /// clients that cannot batch. `JSONRPCClient` sends them as one JSON-RPC batch instead.
    public func read(_ reads: [ChainRead]) async -> [Result<ChainReadResult, EthereumClientError>] {
        var results: [Result<ChainReadResult, EthereumClientError>] = []
        results.reserveCapacity(reads.count)
        for item in reads {
            results.append(await readOne(item))
        }
        return results
    }

    /// One read through the single-call methods.
    public func readOne(_ item: ChainRead) async -> Result<ChainReadResult, EthereumClientError> {
        do throws(EthereumClientError) {
            switch item {
            case .chainID: return .success(.quantity(UInt256(try await chainID())))
            case .blockNumber: return .success(.quantity(UInt256(try await blockNumber())))
            case .code(let address, let block): return .success(.data(try await code(at: address, at: block)))
            case .balance(let address, let block): return .success(.quantity(try await balance(of: address, at: block)))
            case .call(let request, let block): return .success(.data(try await call(request, at: block)))
            case .gasPrice: return .success(.quantity(try await gasPrice()))
            case .maxPriorityFeePerGas: return .success(.quantity(try await maxPriorityFeePerGas()))
            case .feeHistory(let count, let newest, let percentiles):
                return .success(.feeHistory(try await feeHistory(blockCount: count, newestBlock: newest, rewardPercentiles: percentiles)))
            }
        } catch {
            return .failure(error)
        }
    }
}
