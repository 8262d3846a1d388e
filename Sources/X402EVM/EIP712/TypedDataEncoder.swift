import X402

/// The generic EIP-712 `encodeType` / `encodeData` / `hashStruct` over a set of struct definitions.
final class TypedDataEncoder {
    let types: [String: [TypedData.Field]]
    /// Type hashes computed so far (each struct's `encodeType` is hashed once per encoder).
    private var typeHashes: [String: Bytes32] = [:]

    init(types: [String: [TypedData.Field]]) {
        self.types = types
    }

    /// Every EIP-712 atomic type name, pre-parsed.
    static let atomicTypes: [String: ABIType] = {
        var table: [String: ABIType] = ["address": .address, "bool": .bool, "bytes": .bytes, "string": .string]
        for bits in stride(from: 8, through: 256, by: 8) {
            table["uint\(bits)"] = .uint(bits)
            table["int\(bits)"] = .int(bits)
        }
        for count in 1...32 { table["bytes\(count)"] = .fixedBytes(count) }
        return table
    }()

    private func typeHash(_ name: String) throws(TypedDataError) -> Bytes32 {
        if let cached = typeHashes[name] { return cached }
        let hash = Keccak256.hash(utf8: try encodeType(name))
        typeHashes[name] = hash
        return hash
    }

    /// The struct name a field type refers to (array suffixes removed), if it is a defined struct.
    private func structName(of type: String) -> String? {
        let base = type.firstIndex(of: "[").map { String(type[..<$0]) } ?? type
        return types[base] != nil ? base : nil
    }

    /// Every struct `name` refers to, directly or not, and `name` itself. Iterative, so a long chain
    /// of type definitions in hostile typed data cannot exhaust the stack.
    private func collectDependencies(_ name: String, into found: inout Set<String>) throws(TypedDataError) {
        var pending = [name]
        while let next = pending.popLast() {
            guard !found.contains(next) else { continue }
            guard let fields = types[next] else { throw .undefinedType(next) }
            found.insert(next)
            for field in fields {
                if let dependency = structName(of: field.type), !found.contains(dependency) {
                    pending.append(dependency)
                }
            }
        }
    }

    func encodeType(_ name: String) throws(TypedDataError) -> String {
        var found: Set<String> = []
        try collectDependencies(name, into: &found)
        found.remove(name)
        // Dependencies sorted by name, byte order (uppercase before lowercase).
        let ordered = [name] + found.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var text = ""
        for typeName in ordered {
            text += typeName + "(" + (types[typeName] ?? []).map { "\($0.type) \($0.name)" }.joined(separator: ",") + ")"
        }
        return text
    }

    func hashStruct(_ name: String, _ value: JSONValue, path: String) throws(TypedDataError) -> Bytes32 {
        guard let fields = types[name] else { throw .undefinedType(name) }
        guard case let .object(members) = value else {
            throw .invalidValue(path: path, type: name, reason: "expected a JSON object")
        }
        var encoded = try typeHash(name).bytes
        encoded.reserveCapacity(32 * (fields.count + 1))
        for field in fields {
            let fieldPath = path + "." + field.name
            guard let fieldValue = members[field.name] else { throw .missingValue(path: fieldPath) }
            let word = try encodeField(field.type, fieldValue, path: fieldPath)
            word.withUnsafeBytes { encoded.append(contentsOf: $0) }
        }
        return Keccak256.hash(encoded)
    }

    private func encodeField(_ type: String, _ value: JSONValue, path: String) throws(TypedDataError) -> Bytes32 {
        if type.hasSuffix("]") {
            guard let open = type.lastIndex(of: "[") else { throw .undefinedType(type) }
            let elementType = String(type[..<open])
            let sizeText = type[type.index(after: open)..<type.index(before: type.endIndex)]
            guard case let .array(items) = value else {
                throw .invalidValue(path: path, type: type, reason: "expected a JSON array")
            }
            if !sizeText.isEmpty {
                guard let size = Int(sizeText), size > 0 else { throw .undefinedType(type) }
                guard items.count == size else { throw .arrayLengthMismatch(path: path, expected: size, actual: items.count) }
            }
            var concatenated: [UInt8] = []
            concatenated.reserveCapacity(items.count * 32)
            for (index, item) in items.enumerated() {
                let word = try encodeField(elementType, item, path: "\(path)[\(index)]")
                word.withUnsafeBytes { concatenated.append(contentsOf: $0) }
            }
            return Keccak256.hash(concatenated)
        }
        if types[type] != nil {
            return try hashStruct(type, value, path: path)
        }
        guard let abiType = Self.atomicTypes[type] else { throw .undefinedType(type) }
        return try Self.encodeAtomic(abiType, typeName: type, value, path: path)
    }

    static func encodeAtomic(_ type: ABIType, typeName: String, _ value: JSONValue, path: String) throws(TypedDataError) -> Bytes32 {
        func invalid(_ reason: String) -> TypedDataError { .invalidValue(path: path, type: typeName, reason: reason) }
        switch type {
        case let .uint(bits):
            let number = try unsignedInteger(value, invalid)
            guard number.bitLength <= bits else { throw invalid("out of range for \(bits) bits") }
            return Bytes32(number)
        case let .int(bits):
            let number = try signedInteger(value, invalid)
            guard number.fits(bits: bits) else { throw invalid("out of range for \(bits) bits") }
            return Bytes32(number.bitPattern)
        case .bool:
            guard case let .bool(flag) = value else { throw invalid("expected true or false") }
            return Bytes32(UInt256(flag ? 1 : 0))
        case .address:
            guard case let .string(text) = value else { throw invalid("expected an address string") }
            do {
                return try EthereumAddress(text).word
            } catch {
                throw invalid(error.description)
            }
        case let .fixedBytes(count):
            let bytes = try hexBytes(value, invalid)
            guard bytes.count == count else { throw invalid("expected \(count) bytes, got \(bytes.count)") }
            guard let word = Bytes32(bytes + [UInt8](repeating: 0, count: 32 - count)) else { throw .undefinedType(typeName) }
            return word
        case .bytes:
            return Keccak256.hash(try hexBytes(value, invalid))
        case .string:
            guard case let .string(text) = value else { throw invalid("expected a string") }
            return Keccak256.hash(utf8: text)
        default:
            throw .undefinedType(typeName)
        }
    }

    private static func hexBytes(_ value: JSONValue, _ invalid: (String) -> TypedDataError) throws(TypedDataError) -> [UInt8] {
        guard case let .string(text) = value, text.hasHexPrefix else {
            throw invalid("expected 0x-prefixed hex")
        }
        do {
            return try Hex.decode(text)
        } catch {
            throw invalid(error.description)
        }
    }

    static func unsignedInteger(_ value: JSONValue, _ invalid: (String) -> TypedDataError) throws(TypedDataError) -> UInt256 {
        let parsed: UInt256?
        switch value {
        case let .number(number):
            parsed = UInt256(decimal: number.literal)
        case let .string(text):
            if text.hasHexPrefix {
                parsed = UInt256(hex: text)
            } else {
                parsed = UInt256(decimal: text)
            }
        default:
            throw invalid("expected an integer (number or string)")
        }
        guard let parsed else { throw invalid("not a non-negative integer below 2^256") }
        return parsed
    }

    static func signedInteger(_ value: JSONValue, _ invalid: (String) -> TypedDataError) throws(TypedDataError) -> Int256 {
        let parsed: Int256?
        switch value {
        case let .number(number):
            parsed = Int256(decimal: number.literal)
        case let .string(text):
            let negative = text.utf8.first == UInt8(ascii: "-")
            let digits = negative ? text.dropFirst() : Substring(text)
            if digits.hasHexPrefix {
                parsed = UInt256(hex: digits).flatMap { Int256(negative: negative, magnitude: $0) }
            } else {
                parsed = Int256(decimal: text)
            }
        default:
            throw invalid("expected an integer (number or string)")
        }
        guard let parsed else { throw invalid("not an integer in [-2^255, 2^255)") }
        return parsed
    }
}
