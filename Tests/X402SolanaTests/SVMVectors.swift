import Foundation
import X402

/// The fixture `svm-vectors.json`, parsed once with the core JSON parser.
enum SVMVectors {
    static let json: JSONValue = {
        guard let url = Bundle.module.url(forResource: "Fixtures/svm-vectors", withExtension: "json"),
            let data = try? Data(contentsOf: url), let value = try? JSONValue(parsing: Array(data))
        else { fatalError("svm-vectors.json is missing or unreadable") }
        return value
    }()

    static func section(_ name: String) -> [JSONValue] { json[name]?.arrayValue ?? [] }
}

extension JSONValue {
    var string: String { stringValue ?? "" }
    var int: Int { Int(numberText ?? "") ?? -1 }
    var numberText: String? {
        if case .number(let n) = self { return n.description }
        return nil
    }
    var bool: Bool {
        if case .bool(let b) = self { return b }
        return false
    }
}

enum Hex {
    static func decode(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = text.utf8.makeIterator()
        while let a = it.next(), let b = it.next() {
            out.append(UInt8(String(decoding: [a, b], as: UTF8.self), radix: 16) ?? 0)
        }
        return out
    }

    static func encode(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}
