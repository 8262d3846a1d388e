public import Foundation

/// The `payment-identifier` extension: an idempotency key the client sends with a payment, so that
/// a repeated id for the same payment is a retry (same answer, no second settlement) and the same
/// id with another payment a conflict.
public enum PaymentIdentifier {
    /// The key in `PaymentRequired.extensions` and `PaymentPayload.extensions`.
    public static let extensionKey = "payment-identifier"
    /// The shortest id accepted.
    public static let minimumLength = 16
    /// The longest id accepted.
    public static let maximumLength = 128

    /// The declaration a seller puts in `PaymentRequired.extensions` (`info.required` and the
    /// JSON Schema of `info`).
    ///
    /// - Parameter required: Whether a payment without an id is refused (400).
    /// - Returns: The extension object.
    public static func declaration(required: Bool = false) -> JSONValue {
        let id: JSONValue = [
            "type": "string", "minLength": .number(JSONNumber(minimumLength)), "maxLength": .number(JSONNumber(maximumLength)),
            "pattern": "^[a-zA-Z0-9_-]+$",
        ]
        return [
            "info": ["required": .bool(required)],
            "schema": [
                "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                "properties": ["required": ["type": "boolean"], "id": id], "required": ["required"],
            ],
        ]
    }

    /// A new id: `pay_` and 32 lower-case hex digits (a random UUID without hyphens).
    public static func generate() -> String {
        "pay_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    /// Whether `id` is 16–128 characters of `[A-Za-z0-9_-]`.
    public static func isValid(_ id: String) -> Bool {
        let u = id.utf8
        return u.count >= minimumLength && u.count <= maximumLength
            && u.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F }
    }

    /// Whether a 402's extensions declare the extension (an object whose `info.required` is a boolean).
    public static func isDeclared(in extensions: JSONObject?) -> Bool {
        extensions?[extensionKey]?["info"]?["required"]?.boolValue != nil
    }

    /// Whether the declaration in `extensions` requires an id.
    public static func isRequired(by extensions: JSONObject?) -> Bool {
        extensions?[extensionKey]?["info"]?["required"]?.boolValue == true
    }

    /// The id a payment carries in `extensions["payment-identifier"].info.id`.
    ///
    /// - Returns: `nil` when the payment carries none.
    /// - Throws: ``PaymentIdentifierProblem/invalid`` when it carries one that is not a valid id.
    public static func id(in payment: AnyPaymentPayload) throws(PaymentIdentifierProblem) -> String? {
        guard case .v2(let p) = payment, let value = p.extensions?[extensionKey]?["info"]?["id"], !value.isNull else { return nil }
        guard let id = value.stringValue, isValid(id) else { throw .invalid }
        return id
    }

    /// The extensions with `id` added to the declared extension's `info` (every other member kept).
    ///
    /// - Parameters:
    ///   - id: The id to send.
    ///   - extensions: The payment's extensions (an echo of the server's).
    /// - Returns: The extensions, unchanged when the extension is not declared.
    public static func adding(_ id: String, to extensions: JSONObject?) -> JSONObject? {
        guard isDeclared(in: extensions), var all = extensions, var ext = all[extensionKey]?.objectValue,
            var info = ext["info"]?.objectValue
        else { return extensions }
        info["id"] = .string(id)
        ext["info"] = .object(info)
        all[extensionKey] = .object(ext)
        return all
    }
}

/// Why a payment's identifier was refused.
public enum PaymentIdentifierProblem: Error, Sendable, Hashable, CustomStringConvertible {
    /// The seller requires an id and the payment carries none (HTTP 400).
    case missing
    /// The id is not 16–128 characters of `[A-Za-z0-9_-]` (HTTP 400).
    case invalid
    /// The id was already used with another payment (HTTP 409).
    case conflict

    /// The reason string sent in the answer.
    public var reason: ErrorReason {
        switch self {
        case .missing: .paymentIdentifierRequired
        case .invalid: .invalidPaymentIdentifier
        case .conflict: .paymentIdentifierConflict
        }
    }

    public var description: String {
        switch self {
        case .missing: "this seller requires a payment identifier"
        case .invalid: "the payment identifier must be 16 to 128 characters of A-Z, a-z, 0-9, - and _"
        case .conflict: "this payment identifier was already used with another payment"
        }
    }
}

extension ErrorReason {
    /// The seller requires a `payment-identifier` id and the payment has none (this package's reason).
    public static let paymentIdentifierRequired: ErrorReason = "payment_identifier_required"
    /// The `payment-identifier` id is malformed (this package's reason).
    public static let invalidPaymentIdentifier: ErrorReason = "invalid_payment_identifier"
    /// The `payment-identifier` id was used before with another payment (this package's reason).
    public static let paymentIdentifierConflict: ErrorReason = "payment_identifier_conflict"
}

/// What binding a payment identifier to a payment found.
public enum PaymentIdentifierBinding: Sendable, Hashable {
    /// The id was new; it is now bound to the payment.
    case new
    /// The id was already bound to this same payment: a retry.
    case repeated
    /// The id is bound to another payment.
    case conflict
}

/// Where a seller binds payment identifiers to payments, shared by every instance (the payment
/// state stores implement it: memory, SQLite, PostgreSQL).
public protocol PaymentIdentifierStore: Sendable {
    /// Binds `id` to `identity` unless it is bound already (atomically).
    ///
    /// - Returns: Whether the id was new, bound to this payment, or to another.
    func bind(paymentID id: String, to identity: PaymentIdentity, now: Date) async throws(PaymentStateStoreError) -> PaymentIdentifierBinding
}

extension PaymentIdentifierBinding {
    /// The binding of an id that was found bound to `existing`, for a payment `identity`.
    public static func of(existing: String, for identity: PaymentIdentity) -> PaymentIdentifierBinding {
        existing == identity.key ? .repeated : .conflict
    }
}

extension PaymentIdentifier {
    /// The key an id is stored under: a SHA-256 hex of the id (fixed length, no peer text in keys).
    public static func storageKey(_ id: String) -> String { SHA256.hex(Array(id.utf8)) }
}

extension InMemoryPaymentStateStore: PaymentIdentifierStore {
    public func bind(paymentID id: String, to identity: PaymentIdentity, now: Date) -> PaymentIdentifierBinding {
        let key = PaymentIdentifier.storageKey(id)
        if let existing = paymentIDs[key] { return .of(existing: existing.identity, for: identity) }
        paymentIDs[key] = (identity.key, now)
        return .new
    }
}

extension ResourceServer {
    /// Binds the payment's `payment-identifier` id (if any) to the payment.
    ///
    /// - Returns: The problem to refuse the payment with, or `nil` to go on.
    func bindPaymentIdentifier(of attempt: PaymentAttempt, required: Bool) async throws(PaymentStateStoreError) -> PaymentIdentifierProblem? {
        let id: String?
        do { id = try PaymentIdentifier.id(in: attempt.payload) } catch { return error }
        guard let id else { return required ? .missing : nil }
        guard let paymentIdentifiers else { return nil }
        switch try await paymentIdentifiers.bind(paymentID: id, to: attempt.identity, now: Date()) {
        case .new, .repeated: return nil
        case .conflict: return .conflict
        }
    }
}
