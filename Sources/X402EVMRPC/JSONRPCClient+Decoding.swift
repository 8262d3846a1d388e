public import X402
public import X402EVM

// MARK: - Response decoding

extension JSONRPCClient {
    static func parseJSON(_ bytes: [UInt8]) throws(EthereumClientError) -> JSONValue {
        do {
            return try JSONValue(parsing: bytes)
        } catch {
            throw .invalidResponse("answer is not JSON (\(error))")
        }
    }

    /// The `result` of a single-call answer, or its error as ``EthereumClientError/node(code:message:data:)``.
    static func decodeSingleResponse(_ bytes: [UInt8], status: Int, expectedID: Int) throws(EthereumClientError) -> JSONValue {
        let json = try parseJSON(bytes)
        guard let object = json.objectValue else {
            throw .invalidResponse("expected a JSON-RPC response object, got \(json.typeName)")
        }
        return try decodeResponseObject(object, expectedID: expectedID).get()
    }

    /// One response object → its result or error; checks the id when present.
    static func decodeResponseObject(_ object: JSONObject, expectedID: Int?) throws(EthereumClientError) -> Result<JSONValue, EthereumClientError> {
        if let error = object["error"], !error.isNull {
            return .failure(try nodeError(error))
        }
        if let expectedID, let id = object["id"], id.intValue != expectedID {
            throw .invalidResponse("response id \(id) does not match request id \(expectedID)")
        }
        guard let result = object["result"] else {
            throw .invalidResponse("response has neither result nor error")
        }
        return .success(result)
    }

    /// Results of a batch answer, matched to the calls by id.
    static func decodeBatchResponse(_ bytes: [UInt8], status: Int, count: Int) throws(EthereumClientError) -> [Result<JSONValue, EthereumClientError>]
    {
        let json = try parseJSON(bytes)
        if let object = json.objectValue {
            // A node that rejects the whole batch answers with one error object.
            if let error = object["error"], !error.isNull { throw try nodeError(error) }
            throw .invalidResponse("expected an array answering the batch, got an object")
        }
        guard let responses = json.arrayValue else {
            throw .invalidResponse("expected an array answering the batch, got \(json.typeName)")
        }
        var results = [Result<JSONValue, EthereumClientError>?](repeating: nil, count: count)
        for response in responses {
            guard let object = response.objectValue else {
                throw .invalidResponse("batch answer contains a \(response.typeName) instead of a response object")
            }
            guard let id = object["id"]?.intValue, id >= 1, id <= count else {
                // An error without a usable id (e.g. an invalid request) cannot be matched; skip it.
                if object["error"] != nil { continue }
                throw .invalidResponse("batch answer has a response with an unknown id")
            }
            guard results[id - 1] == nil else { throw .invalidResponse("batch answer repeats id \(id)") }
            results[id - 1] = try decodeResponseObject(object, expectedID: nil)
        }
        return results.enumerated().map { index, result in
            result ?? .failure(.invalidResponse("batch answer has no response for call \(index + 1)"))
        }
    }

    /// A JSON-RPC error object → ``EthereumClientError/node(code:message:data:)``.
    static func nodeError(_ value: JSONValue) throws(EthereumClientError) -> EthereumClientError {
        guard let object = value.objectValue else {
            if let message = value.stringValue { return .node(code: 0, message: message, data: nil) }
            throw .invalidResponse("error member is a \(value.typeName), not an object")
        }
        guard let code = object["code"]?.intValue else {
            throw .invalidResponse("error object has no integer code")
        }
        let message = object["message"]?.stringValue ?? ""
        return .node(code: code, message: message, data: object["data"].flatMap(revertData))
    }

    /// Revert bytes from an error's `data`: a hex string, `"Reverted 0x…"`, or an object with its own `data`.
    static func revertData(_ value: JSONValue) -> [UInt8]? {
        switch value {
        case .string(let text):
            let hex = text.hasHexPrefix ? Substring(text) : text.split(separator: " ").last.flatMap { $0.hasHexPrefix ? $0 : nil }
            guard let hex else { return nil }
            return try? Hex.decode(hex)
        case .object(let object):
            return object["data"].flatMap(revertData)
        default:
            return nil
        }
    }

    /// A node error carried by a non-2xx answer, if the body is a JSON-RPC error response.
    static func nodeErrorInBody(_ bytes: [UInt8]) -> EthereumClientError? {
        guard let json = try? JSONValue(parsing: bytes) else { return nil }
        let object = json.objectValue ?? json.arrayValue?.first?.objectValue
        guard let error = object?["error"], !error.isNull else { return nil }
        return try? nodeError(error)
    }
}

/// A node's answer bytes decoded exactly as ``JSONRPCClient`` decodes them, without a transport:
/// the entry points the fuzz targets and decoding tests use.
public enum JSONRPCAnswer {
    /// The `result` of a single-call answer, or its error as `EthereumClientError/node(code:message:data:)`.
    public static func single(_ bytes: [UInt8], expectedID: Int) throws(EthereumClientError) -> JSONValue {
        try JSONRPCClient.decodeSingleResponse(bytes, status: 200, expectedID: expectedID)
    }

    /// The results of a batch answer to `count` calls (ids `1…count`), matched by id.
    public static func batch(_ bytes: [UInt8], count: Int) throws(EthereumClientError) -> [Result<JSONValue, EthereumClientError>] {
        try JSONRPCClient.decodeBatchResponse(bytes, status: 200, count: max(count, 0))
    }

    /// The node error carried by a non-2xx answer's body, if it is a JSON-RPC error response.
    public static func nodeError(inBody bytes: [UInt8]) -> EthereumClientError? {
        JSONRPCClient.nodeErrorInBody(bytes)
    }
}
