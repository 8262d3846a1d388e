import FuzzSupport
// libFuzzer target: the JSON parser and serializer.
//
// Invariants checked on every input that parses: serializing and re-parsing gives an equal value,
// serialization is a fixed point (byte-identical the second time), and equality, hashing and the
// number accessors of every value run without trapping.
import X402

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    guard let value = try? JSONValue(parsing: bytes) else { return 0 }
    let once = value.serialized()
    guard let again = try? JSONValue(parsing: once) else { fatalError("serialized JSON does not parse: \(once)") }
    guard again == value else { fatalError("round trip changed the value") }
    guard again.serialized() == once else { fatalError("serialization is not a fixed point") }
    var hasher = Hasher()
    touch(value, &hasher)
    _ = hasher.finalize()
    return 0
}

/// Exercises every accessor of every value in the tree (hash, ==, number conversions).
func touch(_ value: JSONValue, _ hasher: inout Hasher) {
    switch value {
    case .number(let n):
        hasher.combine(n)
        _ = n.intValue
        _ = n.int64Value
        _ = n.uint64Value
        _ = n.doubleValue
        _ = n == JSONNumber(0)
        if let i = n.intValue, JSONNumber(i) != n { fatalError("intValue \(i) differs from \(n.literal)") }
    case .array(let items):
        for item in items { touch(item, &hasher) }
    case .object(let object):
        hasher.combine(object)
        for (key, member) in object {
            guard object[key] != nil else { fatalError("member \(key) not found by lookup") }
            touch(member, &hasher)
        }
    case .string(let s):
        hasher.combine(s)
    case .bool, .null:
        break
    }
}

// MARK: - Entry point

@_cdecl("FuzzJSON_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzJSON)
}
