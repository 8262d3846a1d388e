/// Where a service keeps its state: in memory, in a SQLite file, or in a PostgreSQL database.
///
/// The one parser of the storage locations written in configuration files and flags
/// (`x402 facilitator serve --database`, `x402 gateway --state`). Accepted forms:
///
/// | text | location |
/// | --- | --- |
/// | `memory` (or SQLite's spelling `:memory:`) | ``memory`` |
/// | `sqlite:PATH` or `sqlite://PATH` | ``sqlite(path:)`` with `PATH` (`sqlite:///var/x.sqlite` is `/var/x.sqlite`) |
/// | a plain path without `:` (`data/x402.sqlite`) | ``sqlite(path:)`` |
/// | `postgres://…` or `postgresql://…` | ``postgres(url:)`` with the whole URL |
///
/// Anything else is refused: an empty text or path, another scheme (`redis://…`, `postgres:x`),
/// or a plain path holding `:` (write it as `sqlite:PATH`).
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    /// Nothing survives a restart.
    case memory
    /// A SQLite file (created with its directory when missing).
    case sqlite(path: String)
    /// A PostgreSQL database, as a `postgres://user[:password]@host[:port]/database` URL.
    case postgres(url: String)

    /// Parses a location.
    /// - Parameter text: One of the accepted forms (see ``StoreLocation``).
    /// - Throws: ``StoreLocationError`` naming why the text is not a location.
    public init(parsing text: String) throws(StoreLocationError) {
        if text.isEmpty { throw .empty }
        if text == "memory" || text == ":memory:" {
            self = .memory
            return
        }
        for prefix in ["postgres://", "postgresql://"] where text.hasPrefix(prefix) {
            guard text.count > prefix.count else { throw .missingPath(text) }
            self = .postgres(url: text)
            return
        }
        for prefix in ["sqlite://", "sqlite:"] where text.hasPrefix(prefix) {
            let path = String(text.dropFirst(prefix.count))
            guard !path.isEmpty else { throw .missingPath(text) }
            self = .sqlite(path: path)
            return
        }
        guard !text.contains(":") else { throw .unsupported(Self.redacted(text)) }
        self = .sqlite(path: text)
    }

    /// The location as text that parses back to it; a PostgreSQL URL keeps only its scheme, so a
    /// password never reaches a log.
    public var description: String {
        switch self {
        case .memory: "memory"
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres: "postgres://…"
        }
    }

    /// The text up to the first `:`, so an unknown URL's credentials never reach an error message.
    static func redacted(_ text: String) -> String {
        guard let colon = text.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":…"
    }
}

/// Why a text is not a ``StoreLocation``.
public enum StoreLocationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text is empty.
    case empty
    /// A `sqlite:` or `postgres://` form without a path or URL after it.
    case missingPath(String)
    /// Not one of the accepted forms (only the part before the first `:` is kept).
    case unsupported(String)

    public var description: String {
        switch self {
        case .empty:
            "an empty storage location (use memory, sqlite:PATH or postgres://user@host:port/database)"
        case .missingPath(let text):
            "\(text) names no path (e.g. sqlite:/var/lib/x402/state.sqlite or postgres://user@host:port/database)"
        case .unsupported(let text):
            "\(text) is not a supported storage location (use memory, sqlite:PATH, a path without ':', or postgres://user@host:port/database)"
        }
    }
}
