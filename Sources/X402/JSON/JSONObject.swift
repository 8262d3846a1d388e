/// A JSON object that keeps its members in insertion order.
///
/// Small objects (the usual x402 case) are searched linearly; once an object holds more than
/// `indexThreshold` (8) members, a hash index from key to position is kept as well, so lookups,
/// duplicate-key checks while parsing and equality stay linear in the object's size even for a
/// hostile object with thousands of keys. Setting an existing key replaces its value in place;
/// setting a new key appends it. Equality ignores order.
public struct JSONObject: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    /// The members in order.
    public private(set) var members: [(key: String, value: JSONValue)]

    /// Position of each key's first occurrence in `members`; kept once the object has more than
    /// `indexThreshold` members, `nil` below that.
    private var positions: [String: Int]?

    /// The member count above which lookups go through a hash index instead of a linear scan.
    static let indexThreshold = 8

    public init() { members = [] }

    public init(_ members: [(String, JSONValue)]) {
        self.members = []
        self.members.reserveCapacity(members.count)
        for (k, v) in members { self[k] = v }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    /// The keys in order.
    public var keys: [String] { members.map(\.key) }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }

    /// Where `key` is in `members`.
    private func position(of key: String) -> Int? {
        if let positions { return positions[key] }
        return members.firstIndex { $0.key == key }
    }

    /// Rebuilds or drops the index after a change that moved members.
    private mutating func reindex() {
        guard members.count > Self.indexThreshold else {
            positions = nil
            return
        }
        var index: [String: Int] = [:]
        index.reserveCapacity(members.count)
        for (i, m) in members.enumerated() where index[m.key] == nil { index[m.key] = i }
        positions = index
    }

    /// Gets or sets a member. Assigning `nil` removes the member.
    public subscript(key: String) -> JSONValue? {
        get {
            position(of: key).map { members[$0].value }
        }
        set {
            if let i = position(of: key) {
                if let newValue {
                    members[i].value = newValue
                } else {
                    members.remove(at: i)
                    reindex()
                }
            } else if let newValue {
                appendUnchecked(key, newValue)
            }
        }
    }

    /// Appends a member without checking for an existing key (the parser has already checked).
    mutating func appendUnchecked(_ key: String, _ value: JSONValue) {
        members.append((key, value))
        if positions != nil {
            // Optional chaining mutates the index in place (no copy of the dictionary).
            if positions?[key] == nil { positions?[key] = members.count - 1 }
        } else if members.count > Self.indexThreshold {
            reindex()
        }
    }

    /// Returns a copy with `other`'s members set on top (shallow merge, keeps this object's order).
    public func merging(_ other: JSONObject) -> JSONObject {
        var result = self
        for (k, v) in other.members { result[k] = v }
        return result
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        members.makeIterator()
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        for (k, v) in lhs.members {
            guard let other = rhs[k], other == v else { return false }
        }
        return true
    }
}

extension JSONObject: Hashable {
    /// Hashes the key set only (consistent with the order-insensitive equality).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for key in keys.sorted() { hasher.combine(key) }
    }
}
