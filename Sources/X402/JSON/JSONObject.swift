/// A JSON object that keeps its members in insertion order.
///
/// Lookup is linear, which is the fastest choice for the small objects x402 exchanges. Setting an
/// existing key replaces its value in place; setting a new key appends it. Equality ignores order.
public struct JSONObject: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    /// The members in order.
    public private(set) var members: [(key: String, value: JSONValue)]

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

    /// Gets or sets a member. Assigning `nil` removes the member.
    public subscript(key: String) -> JSONValue? {
        get {
            for m in members where m.key == key { return m.value }
            return nil
        }
        set {
            if let i = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append((key, newValue))
            }
        }
    }

    /// Appends a member without checking for an existing key (the parser has already checked).
    mutating func appendUnchecked(_ key: String, _ value: JSONValue) {
        members.append((key, value))
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
