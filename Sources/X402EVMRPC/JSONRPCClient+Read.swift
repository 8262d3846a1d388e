public import X402
public import X402EVM

extension JSONRPCClient {
    /// Sends the reads as one JSON-RPC batch (one HTTP request) and decodes each answer as the
    /// matching single-call method would. A node error fails only its own read; a transport fault
    /// fails every read; a node that refuses batches (one error object, or no array) is asked one
    /// call at a time.
    public func read(_ reads: [ChainRead]) async -> [Result<ChainReadResult, EthereumClientError>] {
        guard reads.count > 1 else {
            guard let only = reads.first else { return [] }
            return [await readOne(only)]
        }
        var calls: [RPCCall] = []
        calls.reserveCapacity(reads.count)
        for item in reads {
            switch Self.rpcCall(item) {
            case .success(let call): calls.append(call)
            case .failure(let error): return reads.map { _ in .failure(error) }
            }
        }
        let answers: [Result<JSONValue, EthereumClientError>]
        do {
            answers = try await batch(calls)
        } catch {
            switch error {
            case .node, .invalidResponse:
                // A node (or proxy) that does not take batches answers one error object or
                // something else than an array: ask it one call at a time instead.
                var results: [Result<ChainReadResult, EthereumClientError>] = []
                for item in reads { results.append(await readOne(item)) }
                return results
            default:
                return reads.map { _ in .failure(error) }
            }
        }
        guard answers.count == reads.count else {
            return reads.map { _ in .failure(.invalidResponse("batch answer has \(answers.count) results for \(reads.count) reads")) }
        }
        return zip(reads, answers).map { item, answer in
            answer.flatMap { json in Self.decodeRead(item, json) }
        }
    }

    /// The JSON-RPC call for one read.
    static func rpcCall(_ item: ChainRead) -> Result<RPCCall, EthereumClientError> {
        switch item {
        case .chainID: return .success(RPCCall("eth_chainId"))
        case .blockNumber: return .success(RPCCall("eth_blockNumber"))
        case .code(let address, let block): return .success(RPCCall("eth_getCode", [EthereumJSON.address(address), EthereumJSON.block(block)]))
        case .balance(let address, let block):
            return .success(RPCCall("eth_getBalance", [EthereumJSON.address(address), EthereumJSON.block(block)]))
        case .call(let request, let block): return .success(RPCCall("eth_call", [EthereumJSON.callObject(request), EthereumJSON.block(block)]))
        case .gasPrice: return .success(RPCCall("eth_gasPrice"))
        case .maxPriorityFeePerGas: return .success(RPCCall("eth_maxPriorityFeePerGas"))
        case .feeHistory(let count, let newest, let percentiles):
            var numbers: [JSONValue] = []
            for percentile in percentiles {
                guard let number = JSONNumber(percentile) else { return .failure(.invalidResponse("reward percentile \(percentile) is not finite")) }
                numbers.append(.number(number))
            }
            return .success(
                RPCCall("eth_feeHistory", [EthereumJSON.quantity(UInt64(max(0, count))), EthereumJSON.block(newest), .array(numbers)]))
        }
    }

    /// One answer decoded as the single-call method decodes it.
    static func decodeRead(_ item: ChainRead, _ json: JSONValue) -> Result<ChainReadResult, EthereumClientError> {
        do throws(EthereumClientError) {
            switch item {
            case .chainID, .blockNumber, .balance, .gasPrice, .maxPriorityFeePerGas:
                return .success(.quantity(try EthereumJSON.uint256(json)))
            case .code, .call:
                return .success(.data(try EthereumJSON.bytes(json)))
            case .feeHistory:
                return .success(.feeHistory(try EthereumJSON.feeHistory(json)))
            }
        } catch {
            return .failure(error)
        }
    }
}
