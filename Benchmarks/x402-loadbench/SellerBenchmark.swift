func runSellerBenchmark(_ arguments: [String]) async throws {
    print("seller benchmark: not yet implemented")
}
