func runVerifyBenchmark(_ arguments: [String]) async throws {
    print("verify benchmark: not yet implemented")
}
