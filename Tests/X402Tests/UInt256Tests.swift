import Foundation
import Testing
import X402

@Suite("UInt256")
struct UInt256Tests {
    static let maxDecimal = "115792089237316195423570985008687907853269984665640564039457584007913129639935"

    @Test("boundaries: zero, one, UInt64.max ± 1, 2^128, 2^256 − 1")
    func boundaries() throws {
        #expect(UInt256.zero.decimalString == "0")
        #expect(UInt256.zero.hexString == "0x0")
        #expect(UInt256.zero.isZero)
        #expect(UInt256.max.decimalString == Self.maxDecimal)
        #expect(UInt256.max.hexString == "0x" + String(repeating: "f", count: 64))
        #expect(UInt256(decimal: Self.maxDecimal) == .max)
        #expect(UInt256(decimal: "115792089237316195423570985008687907853269984665640564039457584007913129639936") == nil)
        #expect(UInt256(decimal: "999999999999999999999999999999999999999999999999999999999999999999999999999999") == nil)
        let u64max = UInt256(UInt64.max)
        #expect(u64max.decimalString == "18446744073709551615")
        #expect((u64max + 1).decimalString == "18446744073709551616")
        #expect((u64max + 1).asUInt64 == nil)
        #expect(u64max.asUInt64 == .max)
        #expect((UInt256(1) << 128).decimalString == "340282366920938463463374607431768211456")
        #expect(UInt256.max.bigEndianBytes == [UInt8](repeating: 0xFF, count: 32))
        #expect(UInt256(1).bigEndianBytes == [UInt8](repeating: 0, count: 31) + [1])
        let literal: UInt256 = 115_792_089_237_316_195_423_570_985_008_687_907_853_269_984_665_640_564_039_457_584_007_913_129_639_935
        #expect(literal == .max)
        #expect(UInt256.zero < UInt256(1))
        #expect(UInt256(UInt64.max) < UInt256(1) << 64)
        #expect(!(UInt256.max < UInt256.max))
    }

    @Test("strict decimal parsing", arguments: ["", " 1", "1 ", "+1", "-1", "1.0", "1e3", "0x10", "１", "1_000"])
    func rejectsMalformedDecimal(text: String) {
        #expect(UInt256(decimal: text) == nil)
    }

    @Test("leading zeros are allowed in decimal")
    func leadingZeros() {
        #expect(UInt256(decimal: "000000000000000000000000000000000000000000000000000000000000000000000000000000000042") == UInt256(42))
        #expect(UInt256(decimal: "0") == .zero)
    }

    @Test("hex parsing: optional prefix, either case, up to 64 digits")
    func hexParsing() {
        #expect(UInt256(hex: "0xff") == UInt256(255))
        #expect(UInt256(hex: "FF") == UInt256(255))
        #expect(UInt256(hex: "0X0") == .zero)
        #expect(UInt256(hex: "0x" + String(repeating: "F", count: 64)) == .max)
        #expect(UInt256(hex: "0x" + String(repeating: "0", count: 65)) == nil)
        #expect(UInt256(hex: "0x") == nil)
        #expect(UInt256(hex: "") == nil)
        #expect(UInt256(hex: "0xg") == nil)
        #expect(UInt256(hex: "0x0001").map(\.hexString) == "0x1")
    }

    @Test("big-endian bytes round trip; more than 32 bytes rejected")
    func bytes() {
        #expect(UInt256(bigEndian: [0x01, 0x00]) == UInt256(256))
        #expect(UInt256(bigEndian: [UInt8]()) == .zero)
        #expect(UInt256(bigEndian: [UInt8](repeating: 0, count: 33)) == nil)
        let value = UInt256(decimal: "33247007178036348590600198031289925668252061821958005840077069883511451257277")!
        #expect(UInt256(bigEndian: value.bigEndianBytes) == value)
    }

    @Test("overflow reporting and trapping-free wrapping")
    func overflow() {
        #expect(UInt256.max.addingReportingOverflow(1) == (.zero, true))
        #expect(UInt256.zero.subtractingReportingOverflow(1) == (.max, true))
        #expect((UInt256(1) << 255).multipliedReportingOverflow(by: 2) == (.zero, true))
        #expect(UInt256.max.multipliedReportingOverflow(by: 1) == (.max, false))
        #expect(UInt256.max &+ 1 == .zero)
        #expect(UInt256.zero &- 1 == .max)
    }

    @Test("powers of ten up to 10^77")
    func powers() {
        #expect(UInt256.powerOfTen(0) == 1)
        #expect(UInt256.powerOfTen(6) == 1_000_000)
        #expect(UInt256.powerOfTen(77)?.decimalString == "1" + String(repeating: "0", count: 77))
        #expect(UInt256.powerOfTen(78) == nil)
        #expect(UInt256.powerOfTen(-1) == nil)
    }

    @Test("conversions from BinaryInteger")
    func conversions() {
        #expect(UInt256(exactly: -1) == nil)
        #expect(UInt256(exactly: Int.max) == UInt256(UInt64(Int.max)))
        #expect(UInt256(exactly: UInt8(7)) == 7)
        #expect(UInt256(exactly: Int8(-7)) == nil)
    }

    @Test("Codable: decimal string out; string or integer number in")
    func codable() throws {
        let value = UInt256(decimal: Self.maxDecimal)!
        let encoded = try JSONEncoder().encode([value])
        #expect(String(decoding: encoded, as: UTF8.self) == "[\"\(Self.maxDecimal)\"]")
        #expect(try JSONDecoder().decode([UInt256].self, from: encoded) == [value])
        #expect(try JSONDecoder().decode([UInt256].self, from: Data("[10000, 0]".utf8)) == [10000, 0])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([UInt256].self, from: Data("[\"-1\"]".utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([UInt256].self, from: Data("[-1]".utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([UInt256].self, from: Data("[1.5]".utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([UInt256].self, from: Data("[\"0x10\"]".utf8)) }
    }

    @Test("arithmetic matches Python big integers on 300 random pairs")
    func pythonCrossCheck() throws {
        for (a, b, sum, difference, product, wrappedProduct, quotient, remainder, hex) in uint256PythonCases {
            let x = try #require(UInt256(decimal: a))
            let y = try #require(UInt256(decimal: b))
            #expect(x.decimalString == a)
            #expect(x.hexString == hex)
            #expect(UInt256(hex: hex) == x)
            let added = x.addingReportingOverflow(y)
            #expect(added.overflow == (sum == nil))
            if let sum { #expect((x + y).decimalString == sum) }
            let subtracted = x.subtractingReportingOverflow(y)
            #expect(subtracted.overflow == (difference == nil))
            if let difference { #expect((x - y).decimalString == difference) }
            let multiplied = x.multipliedReportingOverflow(by: y)
            #expect(multiplied.overflow == (product == nil))
            #expect(multiplied.partialValue.decimalString == wrappedProduct)
            let (q, r) = x.quotientAndRemainder(dividingBy: y)
            #expect(q.decimalString == quotient)
            #expect(r.decimalString == remainder)
            #expect(x / y == q)
            #expect(x % y == r)
        }
    }

    @Test("random round trips against decimal-string arithmetic")
    func randomisedDecimal() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let digits = Int.random(in: 1...78, using: &generator)
            var text = String(Int.random(in: 1...9, using: &generator))
            for _ in 1..<digits { text.append(String(Int.random(in: 0...9, using: &generator))) }
            guard let value = UInt256(decimal: text) else {
                // Only 78-digit strings above 2^256 − 1 may fail.
                #expect(text.count == 78 && text > Self.maxDecimal)
                continue
            }
            #expect(value.decimalString == text)
            #expect(UInt256(bigEndian: value.bigEndianBytes) == value)
            #expect(UInt256(hex: value.hexString) == value)
            // Multiply by 10 is appending a zero; divide by 10 drops the last digit.
            let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
            if !overflow { #expect(times10.decimalString == text + "0") }
            #expect((value / 10).decimalString == (text.count == 1 ? "0" : String(text.dropLast())))
            #expect((value % 10).decimalString == String(text.last!))
            // (a / b) * b + a % b == a for a random divisor.
            let divisor = UInt256(words: (generator.next(), generator.next() >> UInt64.random(in: 0...63), 0, 0)) + 1
            let (q, r) = value.quotientAndRemainder(dividingBy: divisor)
            #expect(r < divisor)
            #expect(q * divisor + r == value)
        }
    }
}
