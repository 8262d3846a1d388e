import Foundation
import Testing

@Suite struct SolanaVectorFixtureTests {
    @Test func fixtureIsPresent() throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/svm-vectors", withExtension: "json"))
        let data = try Data(contentsOf: url)
        #expect(data.count > 100_000)
    }
}
