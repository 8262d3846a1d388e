import Foundation
import Testing

@testable import X402

/// One header vector extracted from the spec digest by `Fixtures/extract_vectors.py`.
struct HeaderVector: Decodable, CustomTestStringConvertible, Sendable {
    var section: String
    var header: String
    var base64: String
    var json: String
    var validJSON: Bool
    var compact: Bool

    var testDescription: String { "§\(section) \(header) (\(base64.count) chars)" }

    static let all: [HeaderVector] = {
        let url = Bundle.module.url(forResource: "header-vectors", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode([HeaderVector].self, from: Data(contentsOf: url))
    }()
}

/// A deterministic generator (SplitMix64) for building random messages from a seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
