public import Foundation

/// The `offer-receipt` extension: a seller signs each offer of its 402 and, after settlement, a
/// receipt for the buyer. Both come in two forms, EIP-712 (`eip712`) and compact JWS (`jws`).
///
/// Offers travel in `PaymentRequired.extensions["offer-receipt"].info.offers` (one per
/// `accepts[]` entry, in order); the receipt in `SettleResponse.extensions["offer-receipt"].info.receipt`.
/// Everything read from a peer is bounded: see the limits below.
public enum OfferReceipt {
    /// The key of the extension in `extensions`.
    public static let extensionKey = "offer-receipt"
    /// The payload version this implementation signs and accepts.
    public static let payloadVersion: UInt64 = 1
    /// The longest `signature` member read (an EIP-712 hex signature or a compact JWS).
    public static let maximumSignatureLength = 8 * 1024
    /// The longest text accepted in any one payload field.
    public static let maximumFieldLength = 2048
    /// The most offers read from one 402.
    public static let maximumOffers = 64
    /// The largest integer accepted in a payload (2^53 − 1, so every JSON reader agrees on it).
    public static let maximumInteger: UInt64 = 9_007_199_254_740_991
    /// How old a receipt may be when the buyer checks it right after paying (TS default).
    public static let defaultReceiptMaximumAge: Duration = .seconds(3600)
    /// How far in the future a receipt's `issuedAt` may lie (clock skew).
    public static let allowedClockSkew: Duration = .seconds(300)
}

/// The two signature forms of the extension.
public enum OfferReceiptFormat: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// EIP-712 typed data (domain `x402 offer`/`x402 receipt`, version `1`, chain id 1).
    case eip712
    /// JWS compact serialization over the JCS-canonical payload.
    case jws

    public var description: String { rawValue }
}

/// What a signed payload (offer or receipt) provides to the signers and verifiers.
public protocol OfferReceiptPayload: JSONRepresentable, Hashable {
    /// The EIP-712 domain name: `x402 offer` or `x402 receipt`.
    static var eip712DomainName: String { get }
    /// The EIP-712 primary type: `Offer` or `Receipt`.
    static var eip712PrimaryType: String { get }
    /// The EIP-712 struct members `(name, type)` in signing order.
    static var eip712Fields: [(name: String, type: String)] { get }
    /// The payload as EIP-712 signs it: every member present (absent optionals as `0` or `""`).
    var eip712Message: JSONValue { get }
    /// The payload as a JWS carries it: absent optionals omitted (serialized with JCS).
    var jwsMembers: JSONObject { get }
}

/// The signed fields of an offer (spec §4.3).
public struct OfferPayload: OfferReceiptPayload {
    /// The payload version (`1`).
    public var version: UInt64
    /// The paid resource's URL.
    public var resourceUrl: String
    /// The payment scheme, e.g. `exact`.
    public var scheme: String
    /// The CAIP-2 network (v1 names are converted before signing).
    public var network: String
    /// The asset (token address).
    public var asset: String
    /// The recipient.
    public var payTo: String
    /// The amount in atomic units (v1: `maxAmountRequired`).
    public var amount: String
    /// Unix seconds after which the offer is void; `nil` (signed as `0` in EIP-712) for none.
    public var validUntil: UInt64?

    /// An offer payload from its fields.
    public init(
        version: UInt64 = OfferReceipt.payloadVersion, resourceUrl: String, scheme: String, network: String, asset: String, payTo: String,
        amount: String, validUntil: UInt64?
    ) {
        self.version = version
        self.resourceUrl = resourceUrl
        self.scheme = scheme
        self.network = network
        self.asset = asset
        self.payTo = payTo
        self.amount = amount
        self.validUntil = validUntil
    }

    /// The offer payload for one requirement of a 402.
    ///
    /// - Parameters:
    ///   - requirements: The requirement offered.
    ///   - resourceUrl: The resource's URL.
    ///   - validUntil: When the offer ends (Unix seconds).
    public init(requirements: PaymentRequirements, resourceUrl: String, validUntil: UInt64?) {
        self.init(
            resourceUrl: resourceUrl, scheme: requirements.scheme, network: requirements.network.identifier, asset: requirements.asset,
            payTo: requirements.payTo, amount: requirements.amount, validUntil: validUntil)
    }

    public static let eip712DomainName = "x402 offer"
    public static let eip712PrimaryType = "Offer"
    public static let eip712Fields: [(name: String, type: String)] = [
        ("version", "uint256"), ("resourceUrl", "string"), ("scheme", "string"), ("network", "string"), ("asset", "string"),
        ("payTo", "string"), ("amount", "string"), ("validUntil", "uint256"),
    ]

    public init(json: JSONValue) throws(MessageDecodingError) {
        let r = try OfferReceiptReader(json)
        version = try r.version()
        resourceUrl = try r.text("resourceUrl")
        scheme = try r.text("scheme")
        network = try r.text("network")
        asset = try r.text("asset")
        payTo = try r.text("payTo")
        amount = try r.text("amount")
        let until = try r.optionalInteger("validUntil")
        validUntil = until == 0 ? nil : until
    }

    /// The EIP-712 form (all members, `validUntil` `0` when absent), in the order TS emits.
    public var json: JSONValue { eip712Message }

    public var eip712Message: JSONValue {
        .object([
            "version": .number(JSONNumber(version)), "resourceUrl": .string(resourceUrl), "scheme": .string(scheme),
            "network": .string(network), "asset": .string(asset), "payTo": .string(payTo), "amount": .string(amount),
            "validUntil": .number(JSONNumber(validUntil ?? 0)),
        ])
    }

    public var jwsMembers: JSONObject {
        var members: JSONObject = [
            "version": .number(JSONNumber(version)), "resourceUrl": .string(resourceUrl), "scheme": .string(scheme),
            "network": .string(network), "asset": .string(asset), "payTo": .string(payTo), "amount": .string(amount),
        ]
        if let validUntil { members["validUntil"] = .number(JSONNumber(validUntil)) }
        return members
    }
}

/// The signed fields of a receipt (spec §4.3).
public struct ReceiptPayload: OfferReceiptPayload {
    /// The payload version (`1`).
    public var version: UInt64
    /// The CAIP-2 network the payment settled on.
    public var network: String
    /// The paid resource's URL.
    public var resourceUrl: String
    /// Who paid (commonly a wallet address).
    public var payer: String
    /// Unix seconds when the receipt was issued.
    public var issuedAt: UInt64
    /// The settlement transaction; `nil` (the privacy default; `""` in EIP-712) when not disclosed.
    public var transaction: String?

    /// A receipt payload from its fields.
    public init(
        version: UInt64 = OfferReceipt.payloadVersion, network: String, resourceUrl: String, payer: String, issuedAt: UInt64,
        transaction: String? = nil
    ) {
        self.version = version
        self.network = network
        self.resourceUrl = resourceUrl
        self.payer = payer
        self.issuedAt = issuedAt
        self.transaction = transaction
    }

    public static let eip712DomainName = "x402 receipt"
    public static let eip712PrimaryType = "Receipt"
    public static let eip712Fields: [(name: String, type: String)] = [
        ("version", "uint256"), ("network", "string"), ("resourceUrl", "string"), ("payer", "string"), ("issuedAt", "uint256"),
        ("transaction", "string"),
    ]

    public init(json: JSONValue) throws(MessageDecodingError) {
        let r = try OfferReceiptReader(json)
        version = try r.version()
        network = try r.text("network")
        resourceUrl = try r.text("resourceUrl")
        payer = try r.text("payer")
        issuedAt = try r.integer("issuedAt")
        let tx = try r.optionalText("transaction")
        transaction = tx?.isEmpty == true ? nil : tx
    }

    /// The EIP-712 form (all members, `transaction` `""` when absent).
    public var json: JSONValue { eip712Message }

    public var eip712Message: JSONValue {
        .object([
            "version": .number(JSONNumber(version)), "network": .string(network), "resourceUrl": .string(resourceUrl),
            "payer": .string(payer), "issuedAt": .number(JSONNumber(issuedAt)), "transaction": .string(transaction ?? ""),
        ])
    }

    public var jwsMembers: JSONObject {
        var members: JSONObject = [
            "version": .number(JSONNumber(version)), "network": .string(network), "resourceUrl": .string(resourceUrl),
            "payer": .string(payer), "issuedAt": .number(JSONNumber(issuedAt)),
        ]
        if let transaction { members["transaction"] = .string(transaction) }
        return members
    }
}

/// A signed offer or receipt as it travels (spec §4.2): `format`, `payload` (EIP-712 only),
/// `signature`, and for offers the unsigned `acceptIndex` hint.
///
/// Decoding is strict: an unknown format, a JWS that is not three base64url segments of a JSON
/// header and payload, a payload beside a JWS, an EIP-712 signature that is not `0x` + 65 bytes
/// of hex, or any field over the limits is a ``MessageDecodingError``. Decoding does not verify
/// the signature: see ``OfferReceiptVerifier``.
public struct SignedPayload<Payload: OfferReceiptPayload>: Sendable, Hashable, JSONRepresentable {
    /// The signature form.
    public var format: OfferReceiptFormat
    /// The signed fields: transmitted for EIP-712, read from the JWS for JWS.
    public var payload: Payload
    /// `0x` + 130 hex digits (EIP-712) or `header.payload.signature` (JWS).
    public var signature: String
    /// Offers only: the index of the `accepts[]` entry this offer is for (a hint, never trusted).
    public var acceptIndex: Int?
    /// The parsed JWS (JWS form only).
    public var jws: CompactJWS?

    /// A signed EIP-712 object.
    public init(eip712 payload: Payload, signature: String, acceptIndex: Int? = nil) {
        self.format = .eip712
        self.payload = payload
        self.signature = signature
        self.acceptIndex = acceptIndex
        self.jws = nil
    }

    /// A signed JWS object.
    ///
    /// - Throws: ``MessageDecodingError`` when `compact` is not a JWS carrying a `Payload`.
    public init(jws compact: String, acceptIndex: Int? = nil) throws(MessageDecodingError) {
        let parsed = try CompactJWS(compact, path: "signature")
        self.format = .jws
        self.payload = try Payload(json: parsed.payload)
        self.signature = compact
        self.acceptIndex = acceptIndex
        self.jws = parsed
    }

    public init(json: JSONValue) throws(MessageDecodingError) {
        let r = try JSONReader(json)
        let formatText = try r.string("format")
        guard let format = OfferReceiptFormat(rawValue: formatText) else {
            throw MessageDecodingError(path: "format", problem: .invalidValue("must be eip712 or jws"))
        }
        let signature = try r.string("signature")
        guard signature.utf8.count <= OfferReceipt.maximumSignatureLength else {
            throw MessageDecodingError(path: "signature", problem: .invalidValue("longer than \(OfferReceipt.maximumSignatureLength) bytes"))
        }
        var acceptIndex: Int?
        if r.value("acceptIndex") != nil {
            guard let index = try r.optionalInt("acceptIndex"), index >= 0, index < OfferReceipt.maximumOffers else {
                throw MessageDecodingError(
                    path: "acceptIndex", problem: .invalidValue("must be an integer from 0 to \(OfferReceipt.maximumOffers - 1)"))
            }
            acceptIndex = index
        }
        switch format {
        case .eip712:
            let payloadJSON = try r.required("payload")
            let payload: Payload
            do { payload = try Payload(json: payloadJSON) } catch { throw error.prefixed("payload") }
            guard OfferReceiptHex.isSignature(signature) else {
                throw MessageDecodingError(path: "signature", problem: .invalidValue("must be 0x and 65 bytes of hex"))
            }
            self.init(eip712: payload, signature: signature, acceptIndex: acceptIndex)
        case .jws:
            guard r.value("payload") == nil else {
                throw MessageDecodingError(path: "payload", problem: .invalidValue("must be absent for the jws format"))
            }
            try self.init(jws: signature, acceptIndex: acceptIndex)
        }
    }

    public var json: JSONValue {
        var w = JSONWriter()
        w.set("format", format.rawValue)
        if let acceptIndex { w.set("acceptIndex", acceptIndex) }
        if format == .eip712 { w.set("payload", payload.eip712Message) }
        w.set("signature", signature)
        return w.value
    }
}

/// A signed offer.
public typealias SignedOffer = SignedPayload<OfferPayload>
/// A signed receipt.
public typealias SignedReceipt = SignedPayload<ReceiptPayload>

extension OfferReceipt {
    /// The JSON Schema of the offers' `info` (as the TS server emits it).
    public static let offersSchema: JSONValue = schema(
        member: "offers", isArray: true,
        payload: [
            ("version", "integer"), ("resourceUrl", "string"), ("scheme", "string"), ("network", "string"), ("asset", "string"),
            ("payTo", "string"), ("amount", "string"), ("validUntil", "integer"),
        ], required: ["version", "resourceUrl", "scheme", "network", "asset", "payTo", "amount"], withAcceptIndex: true)

    /// The JSON Schema of the receipt's `info`.
    public static let receiptSchema: JSONValue = schema(
        member: "receipt", isArray: false,
        payload: [
            ("version", "integer"), ("network", "string"), ("resourceUrl", "string"), ("payer", "string"), ("issuedAt", "integer"),
            ("transaction", "string"),
        ], required: ["version", "network", "resourceUrl", "payer", "issuedAt"], withAcceptIndex: false)

    private static func schema(
        member: String, isArray: Bool, payload: [(String, String)], required: [String], withAcceptIndex: Bool
    ) -> JSONValue {
        var payloadProperties = JSONObject()
        for (name, type) in payload { payloadProperties[name] = ["type": .string(type)] }
        var itemProperties: JSONObject = ["format": ["type": "string"]]
        if withAcceptIndex { itemProperties["acceptIndex"] = ["type": "integer"] }
        itemProperties["payload"] = [
            "type": "object", "properties": .object(payloadProperties), "required": .array(required.map { .string($0) }),
        ]
        itemProperties["signature"] = ["type": "string"]
        let item: JSONValue = ["type": "object", "properties": .object(itemProperties), "required": ["format", "signature"]]
        return [
            "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "properties": .object([member: isArray ? ["type": "array", "items": item] : item]), "required": [.string(member)],
        ]
    }

    /// The `extensions["offer-receipt"]` value of a 402 carrying `offers`.
    public static func offersExtension(_ offers: [SignedOffer]) -> JSONValue {
        ["info": ["offers": .array(offers.map(\.json))], "schema": offersSchema]
    }

    /// The `extensions["offer-receipt"]` value of a settlement response carrying `receipt`.
    public static func receiptExtension(_ receipt: SignedReceipt) -> JSONValue {
        ["info": ["receipt": receipt.json], "schema": receiptSchema]
    }

    /// The signed offers in a 402's `extensions`; `[]` when the extension is absent.
    ///
    /// - Throws: ``MessageDecodingError`` when the extension is present but malformed (more than
    ///   ``maximumOffers`` offers included).
    public static func offers(in extensions: JSONObject?) throws(MessageDecodingError) -> [SignedOffer] {
        guard let value = extensions?[extensionKey] else { return [] }
        let path = "extensions.\(extensionKey).info.offers"
        guard let info = value["info"], let list = info["offers"] else { throw MessageDecodingError(path: path, problem: .missingField) }
        guard let items = list.arrayValue else {
            throw MessageDecodingError(path: path, problem: .wrongType(expected: "an array", found: list.typeName))
        }
        guard items.count <= maximumOffers else {
            throw MessageDecodingError(path: path, problem: .invalidValue("more than \(maximumOffers) offers"))
        }
        var offers: [SignedOffer] = []
        for (i, item) in items.enumerated() {
            do { offers.append(try SignedOffer(json: item)) } catch { throw error.prefixed("\(path)[\(i)]") }
        }
        return offers
    }

    /// The signed receipt in a settlement response's `extensions`; `nil` when absent.
    ///
    /// - Throws: ``MessageDecodingError`` when the extension is present but malformed.
    public static func receipt(in extensions: JSONObject?) throws(MessageDecodingError) -> SignedReceipt? {
        guard let value = extensions?[extensionKey] else { return nil }
        let path = "extensions.\(extensionKey).info.receipt"
        guard let info = value["info"], let receipt = info["receipt"] else { throw MessageDecodingError(path: path, problem: .missingField) }
        do { return try SignedReceipt(json: receipt) } catch { throw error.prefixed(path) }
    }

    /// Reads a receipt exported to a file: a signed receipt object, an `offer-receipt` extension
    /// value (`{"info": {"receipt": …}}`), a settlement response carrying one, or an object with
    /// a `receipt` member (an entry of `x402 history --receipts --json`).
    ///
    /// - Parameter bytes: The file's bytes (at most 64 KiB are read).
    /// - Throws: ``X402DecodingError`` for oversize, non-JSON or malformed input.
    public static func receipt(fromFile bytes: [UInt8]) throws(X402DecodingError) -> SignedReceipt {
        guard bytes.count <= 64 * 1024 else { throw .tooLarge(length: bytes.count, limit: 64 * 1024) }
        let json: JSONValue
        do { json = try JSONValue(parsing: bytes) } catch { throw .invalidJSON(error) }
        do throws(MessageDecodingError) {
            if json["format"] != nil { return try SignedReceipt(json: json) }
            if let receipt = json["info"]?["receipt"] { return try SignedReceipt(json: receipt) }
            if let receipt = json["receipt"], receipt["format"] != nil { return try SignedReceipt(json: receipt) }
            if let extensions = json["extensions"]?.objectValue, let receipt = try Self.receipt(in: extensions) { return receipt }
            throw MessageDecodingError(path: "", problem: .invalidValue("no signed receipt in the file"))
        } catch {
            throw .invalidMessage(error)
        }
    }
}

/// Reads the members of a payload with the extension's limits.
struct OfferReceiptReader {
    let r: JSONReader

    init(_ json: JSONValue) throws(MessageDecodingError) { r = try JSONReader(json) }

    func text(_ key: String) throws(MessageDecodingError) -> String {
        let value = try r.string(key)
        guard value.utf8.count <= OfferReceipt.maximumFieldLength else {
            throw MessageDecodingError(path: key, problem: .invalidValue("longer than \(OfferReceipt.maximumFieldLength) bytes"))
        }
        return value
    }

    func optionalText(_ key: String) throws(MessageDecodingError) -> String? {
        guard r.value(key) != nil else { return nil }
        return try text(key)
    }

    func integer(_ key: String) throws(MessageDecodingError) -> UInt64 {
        let value = try r.required(key)
        guard let number = value.numberValue else {
            throw MessageDecodingError(path: key, problem: .wrongType(expected: "an integer", found: value.typeName))
        }
        // Plain non-negative integer literals only: `1e3`, `1.0` and `-0` would canonicalize differently.
        guard !number.literal.isEmpty, number.literal.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            number.literal == "0" || !number.literal.hasPrefix("0"),
            let parsed = UInt64(number.literal), parsed <= OfferReceipt.maximumInteger
        else {
            throw MessageDecodingError(path: key, problem: .invalidValue("must be an integer from 0 to 2^53-1"))
        }
        return parsed
    }

    func optionalInteger(_ key: String) throws(MessageDecodingError) -> UInt64? {
        guard r.value(key) != nil else { return nil }
        return try integer(key)
    }

    func version() throws(MessageDecodingError) -> UInt64 {
        let version = try integer("version")
        guard version == OfferReceipt.payloadVersion else {
            throw MessageDecodingError(path: "version", problem: .invalidValue("unsupported payload version \(version)"))
        }
        return version
    }
}

extension MessageDecodingError {
    /// The same error with its path under `prefix`.
    func prefixed(_ prefix: String) -> MessageDecodingError {
        MessageDecodingError(path: path.isEmpty ? prefix : "\(prefix).\(path)", problem: problem)
    }
}

/// Hex checks for EIP-712 signatures.
enum OfferReceiptHex {
    /// `0x` followed by exactly 130 hex digits.
    static func isSignature(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 132, bytes[0] == 0x30, bytes[1] == 0x78 || bytes[1] == 0x58 else { return false }
        return bytes[2...].allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) }
    }
}
