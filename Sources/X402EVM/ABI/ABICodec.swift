import X402

/// Solidity ABI encoding and decoding (the contract ABI specification, strict mode).
public enum ABI {
    // MARK: Encoding

    /// Encodes `values` as the tuple `(types…)`: what `abi.encode(values…)` produces.
    public static func encode(_ values: [ABIValue], as types: [ABIType]) throws(ABIError) -> [UInt8] {
        guard values.count == types.count else { throw .countMismatch(expected: types.count, actual: values.count) }
        var output: [UInt8] = []
        try encodeSequence(values, types, into: &output)
        return output
    }

    /// Encodes `values` using canonical type texts, e.g. `encode([...], as: ["address", "uint256"])`.
    public static func encode(_ values: [ABIValue], as typeTexts: [String]) throws(ABIError) -> [UInt8] {
        var types: [ABIType] = []
        for text in typeTexts { types.append(try ABIType(text)) }
        return try encode(values, as: types)
    }

    /// Calldata for `signature` (e.g. `"transfer(address,uint256)"`): selector ‖ encoded arguments.
    public static func encodeCall(_ signature: String, _ arguments: [ABIValue]) throws(ABIError) -> [UInt8] {
        let (_, types) = try parseSignature(signature)
        return selector(signature) + (try encode(arguments, as: types))
    }

    private static func encodeSequence(_ values: [ABIValue], _ types: [ABIType], into output: inout [UInt8]) throws(ABIError) {
        let headLength = types.reduce(0) { $0 + $1.headSize }
        var tail: [UInt8] = []
        for (value, type) in zip(values, types) {
            if type.isDynamic {
                appendWord(UInt256(UInt64(headLength + tail.count)), to: &output)
                try encodeValue(value, type, into: &tail)
            } else {
                try encodeValue(value, type, into: &output)
            }
        }
        output.append(contentsOf: tail)
    }

    private static func encodeValue(_ value: ABIValue, _ type: ABIType, into output: inout [UInt8]) throws(ABIError) {
        func mismatch() -> ABIError { .typeMismatch(type: type.description, value: value.description) }
        switch (type, value) {
        case let (.uint(bits), .uint(number)):
            guard bits == 256 || number.bitLength <= bits else { throw mismatch() }
            appendWord(number, to: &output)
        case let (.int(bits), .int(number)):
            guard number.fits(bits: bits) else { throw mismatch() }
            appendWord(number.bitPattern, to: &output)
        case let (.address, .address(address)):
            appendWord(address.word, to: &output)
        case let (.bool, .bool(flag)):
            appendWord(UInt256(flag ? 1 : 0), to: &output)
        case let (.fixedBytes(count), .fixedBytes(bytes)):
            guard bytes.count == count else { throw mismatch() }
            output.append(contentsOf: bytes)
            output.append(contentsOf: repeatElement(0, count: 32 - count))
        case let (.bytes, .bytes(bytes)), let (.bytes, .fixedBytes(bytes)):
            appendPadded(bytes, to: &output)
        case let (.string, .string(text)):
            appendPadded(Array(text.utf8), to: &output)
        case let (.array(element), .array(items)):
            appendWord(UInt256(UInt64(items.count)), to: &output)
            try encodeSequence(items, Array(repeating: element, count: items.count), into: &output)
        case let (.fixedArray(element, count), .array(items)):
            guard items.count == count else { throw mismatch() }
            try encodeSequence(items, Array(repeating: element, count: count), into: &output)
        case let (.tuple(elements), .tuple(items)), let (.tuple(elements), .array(items)):
            guard items.count == elements.count else { throw mismatch() }
            try encodeSequence(items, elements, into: &output)
        default:
            throw mismatch()
        }
    }

    private static func appendWord(_ value: UInt256, to output: inout [UInt8]) {
        output.append(contentsOf: value.bigEndianBytes)
    }

    private static func appendWord(_ value: Bytes32, to output: inout [UInt8]) {
        value.withUnsafeBytes { output.append(contentsOf: $0) }
    }

    private static func appendPadded(_ bytes: [UInt8], to output: inout [UInt8]) {
        appendWord(UInt256(UInt64(bytes.count)), to: &output)
        output.append(contentsOf: bytes)
        let padding = (32 - bytes.count % 32) % 32
        output.append(contentsOf: repeatElement(0, count: padding))
    }

    // MARK: Decoding

    /// Decodes ABI data holding the tuple `(types…)`. Strict: padding must be zero, bools 0/1,
    /// integers in range, offsets and lengths inside the data.
    public static func decode(_ types: [ABIType], from data: some Collection<UInt8>) throws(ABIError) -> [ABIValue] {
        let bytes = Array(data)
        let result: Result<[ABIValue], ABIError> = bytes.withUnsafeBytes { raw in
            do throws(ABIError) {
                var decoder = ABIDecoder(data: raw)
                return .success(try decoder.decodeSequence(types, at: 0))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Decodes using canonical type texts.
    public static func decode(_ typeTexts: [String], from data: some Collection<UInt8>) throws(ABIError) -> [ABIValue] {
        var types: [ABIType] = []
        for text in typeTexts { types.append(try ABIType(text)) }
        return try decode(types, from: data)
    }

    // MARK: Selectors

    /// The 4-byte selector: the first 4 bytes of keccak256 of the signature text.
    public static func selector(_ signature: String) -> [UInt8] {
        Array(Keccak256.hash(utf8: signature).bytes.prefix(4))
    }

    /// Splits `"name(type1,type2)"` into its name and parsed parameter types.
    public static func parseSignature(_ signature: String) throws(ABIError) -> (name: String, parameters: [ABIType]) {
        guard let open = signature.firstIndex(of: "("), signature.last == ")" else { throw .invalidSignature(signature) }
        let name = String(signature[..<open])
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "$") }) else {
            throw .invalidSignature(signature)
        }
        do {
            guard case let .tuple(types) = try ABIType(signature[open...]) else { throw ABIError.invalidSignature(signature) }
            return (name, types)
        } catch {
            throw .invalidSignature(signature)
        }
    }
}

struct ABIDecoder {
    let data: UnsafeRawBufferPointer
    /// Maximum bytes we allow a decoded value tree to claim, to bound work on hostile input.
    private var budget: Int

    init(data: UnsafeRawBufferPointer) {
        self.data = data
        self.budget = Swift.max(data.count * 32, 1 << 16)
    }

    mutating func decodeSequence(_ types: [ABIType], at base: Int) throws(ABIError) -> [ABIValue] {
        var values: [ABIValue] = []
        values.reserveCapacity(types.count)
        var head = base
        for type in types {
            if type.isDynamic {
                let offset = try readLength(at: head, type: type)
                guard offset <= data.count - base else { throw .invalidOffset(type: type.description, offset: head) }
                values.append(try decodeValue(type, at: base + offset))
            } else {
                values.append(try decodeValue(type, at: head))
            }
            let (next, overflow) = head.addingReportingOverflow(type.headSize)
            guard !overflow else { throw .dataTooShort(type: type.description, offset: head) }
            head = next
        }
        return values
    }

    private func word(at offset: Int, type: ABIType) throws(ABIError) -> UnsafeRawBufferPointer {
        guard offset >= 0, offset <= data.count - 32 else { throw .dataTooShort(type: type.description, offset: offset) }
        return UnsafeRawBufferPointer(rebasing: data[offset..<(offset + 32)])
    }

    /// The 32-byte word at `offset` as an unsigned integer.
    private func wordValue(at offset: Int, type: ABIType) throws(ABIError) -> UInt256 {
        // A word is exactly 32 bytes, so the conversion cannot fail; no force unwrap all the same.
        guard let value = UInt256(bigEndian: try word(at: offset, type: type)) else {
            throw .dataTooShort(type: type.description, offset: offset)
        }
        return value
    }

    private func readLength(at offset: Int, type: ABIType) throws(ABIError) -> Int {
        guard let value = try wordValue(at: offset, type: type).asUInt64, value <= UInt64(Int32.max) else {
            throw .invalidOffset(type: type.description, offset: offset)
        }
        return Int(value)
    }

    private mutating func decodeValue(_ type: ABIType, at offset: Int) throws(ABIError) -> ABIValue {
        budget -= 32
        guard budget >= 0 else { throw .invalidOffset(type: type.description, offset: offset) }
        switch type {
        case let .uint(bits):
            let value = try wordValue(at: offset, type: type)
            guard bits == 256 || value.bitLength <= bits else { throw .invalidPadding(type: type.description, offset: offset) }
            return .uint(value)
        case let .int(bits):
            let value = Int256(bitPattern: try wordValue(at: offset, type: type))
            guard value.fits(bits: bits) else { throw .invalidPadding(type: type.description, offset: offset) }
            return .int(value)
        case .address:
            let bytes = try word(at: offset, type: type)
            guard bytes[0..<12].allSatisfy({ $0 == 0 }) else { throw .invalidPadding(type: type.description, offset: offset) }
            return .address(EthereumAddress(copying: UnsafeRawBufferPointer(rebasing: bytes[12..<32])))
        case .bool:
            let value = try wordValue(at: offset, type: type)
            guard value <= UInt256(1) else { throw .invalidPadding(type: type.description, offset: offset) }
            return .bool(value == UInt256(1))
        case let .fixedBytes(count):
            let bytes = try word(at: offset, type: type)
            guard bytes[count..<32].allSatisfy({ $0 == 0 }) else { throw .invalidPadding(type: type.description, offset: offset) }
            return .fixedBytes(Array(bytes[0..<count]))
        case .bytes:
            return .bytes(try readPadded(at: offset, type: type))
        case .string:
            let bytes = try readPadded(at: offset, type: type)
            guard let text = String(validating: bytes, as: UTF8.self) else { throw .invalidUTF8(offset: offset) }
            return .string(text)
        case let .array(element):
            let count = try readLength(at: offset, type: type)
            guard count <= (data.count - offset - 32) / 32 else { throw .invalidOffset(type: type.description, offset: offset) }
            return .array(try decodeSequence(Array(repeating: element, count: count), at: offset + 32))
        case let .fixedArray(element, count):
            let (size, overflow) = element.headSize.multipliedReportingOverflow(by: count)
            guard !overflow, size <= data.count - offset else { throw .dataTooShort(type: type.description, offset: offset) }
            return .array(try decodeSequence(Array(repeating: element, count: count), at: offset))
        case let .tuple(elements):
            return .tuple(try decodeSequence(elements, at: offset))
        }
    }

    private mutating func readPadded(at offset: Int, type: ABIType) throws(ABIError) -> [UInt8] {
        let length = try readLength(at: offset, type: type)
        let start = offset + 32
        let padded = (length + 31) / 32 * 32
        guard padded <= data.count - start else { throw .dataTooShort(type: type.description, offset: offset) }
        budget -= padded
        guard budget >= 0 else { throw .invalidOffset(type: type.description, offset: offset) }
        guard data[(start + length)..<(start + padded)].allSatisfy({ $0 == 0 }) else {
            throw .invalidPadding(type: type.description, offset: offset)
        }
        return Array(data[start..<(start + length)])
    }
}
