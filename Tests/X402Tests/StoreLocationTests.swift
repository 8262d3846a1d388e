import Testing

@testable import X402

@Suite("Storage locations")
struct StoreLocationTests {
    @Test(
        "accepted forms",
        arguments: [
            ("memory", .memory),
            (":memory:", .memory),
            ("sqlite:/var/lib/x402/f.sqlite", .sqlite(path: "/var/lib/x402/f.sqlite")),
            ("sqlite:x402-facilitator.sqlite", .sqlite(path: "x402-facilitator.sqlite")),
            ("sqlite:///var/lib/x402/f.sqlite", .sqlite(path: "/var/lib/x402/f.sqlite")),
            ("sqlite://data/f.sqlite", .sqlite(path: "data/f.sqlite")),
            ("/tmp/f.sqlite", .sqlite(path: "/tmp/f.sqlite")),
            ("f.sqlite", .sqlite(path: "f.sqlite")),
            ("postgres://u@127.0.0.1:5432/x402", .postgres(url: "postgres://u@127.0.0.1:5432/x402")),
            ("postgresql://u:pw@db/x402", .postgres(url: "postgresql://u:pw@db/x402")),
        ] as [(String, StoreLocation)])
    func accepted(_ text: String, _ location: StoreLocation) throws {
        #expect(try StoreLocation(parsing: text) == location)
        // The description parses back to the same location (PostgreSQL URLs are redacted instead).
        if case .postgres = location {
            #expect(location.description == "postgres://…")
        } else {
            #expect(try StoreLocation(parsing: location.description) == location)
        }
    }

    @Test(
        "refused forms",
        arguments: [
            ("", .empty),
            ("sqlite:", .missingPath("sqlite:")),
            ("sqlite://", .missingPath("sqlite://")),
            ("postgres://", .missingPath("postgres://")),
            ("redis://u:secret@host", .unsupported("redis:…")),
            ("postgres:x", .unsupported("postgres:…")),
            ("mysql://db", .unsupported("mysql:…")),
            ("C:data.sqlite", .unsupported("C:…")),
            ("Memory:", .unsupported("Memory:…")),
        ] as [(String, StoreLocationError)])
    func refused(_ text: String, _ error: StoreLocationError) {
        #expect(throws: error) { try StoreLocation(parsing: text) }
        // A refused URL's credentials never appear in the message.
        #expect(!error.description.contains("secret"))
    }
}
