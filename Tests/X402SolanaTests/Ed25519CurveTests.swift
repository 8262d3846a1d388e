import Testing

@testable import X402Solana

@Suite struct Ed25519CurveTests {
    /// The addition chain and plain square-and-multiply agree on random field elements (values
    /// above p included), so the vectors' on-curve verdicts rest on the same exponent.
    @Test func additionChainMatchesSquareAndMultiply() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let z = Ed25519Curve.unpack(bytes)
            #expect(
                Ed25519Curve.pack(Ed25519Curve.powHalfPMinusOne(z)) == Ed25519Curve.pack(Ed25519Curve.pow(z, Ed25519Curve.halfPMinusOne)))
        }
    }

    /// Euler's criterion gives 0 or 1 for half the inputs and p − 1 for the other half: about half
    /// of random encodings are points.
    @Test func aboutHalfOfRandomEncodingsAreOnTheCurve() {
        var generator = SystemRandomNumberGenerator()
        let onCurve = (0..<400).filter { _ in
            Ed25519Curve.isOnCurve((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        }.count
        #expect((120...280).contains(onCurve), "\(onCurve) of 400")
    }
}
