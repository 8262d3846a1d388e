public import Foundation

/// A receipt the buyer received, with the verdict reached when it arrived.
public struct StoredReceipt: Sendable, Hashable, Identifiable {
    /// The store's id of this receipt.
    public var id: UUID
    /// The spend-ledger entry of the payment, when known.
    public var recordID: UUID?
    /// The receipt as signed.
    public var receipt: SignedReceipt
    /// The verdict on the signature and signer.
    public var status: OfferReceiptStatus
    /// The signer (address or `did:key`), when the signature verified.
    public var signer: String?
    /// The verdict and any mismatch, in words.
    public var detail: String
    /// When the buyer stored it.
    public var receivedAt: Date

    /// A stored receipt from its fields.
    public init(
        id: UUID = UUID(), recordID: UUID?, receipt: SignedReceipt, status: OfferReceiptStatus, signer: String?, detail: String,
        receivedAt: Date
    ) {
        self.id = id
        self.recordID = recordID
        self.receipt = receipt
        self.status = status
        self.signer = signer
        self.detail = detail
        self.receivedAt = receivedAt
    }
}

/// Where a buyer keeps its receipts: the SQLite spend ledger implements it (and an in-memory
/// store for tests and short-lived clients).
public protocol SignedReceiptStore: Sendable {
    /// Stores a receipt.
    func storeReceipt(_ receipt: StoredReceipt) async throws
    /// The newest receipts first, of `payer` (case-insensitive) or of everyone.
    func receipts(payer: String?, limit: Int) async throws -> [StoredReceipt]
}

/// Receipts in memory.
public actor InMemorySignedReceiptStore: SignedReceiptStore {
    private var stored: [StoredReceipt] = []

    /// An empty store.
    public init() {}

    public func storeReceipt(_ receipt: StoredReceipt) {
        stored.append(receipt)
    }

    public func receipts(payer: String?, limit: Int) -> [StoredReceipt] {
        let matching = stored.filter { payer == nil || $0.receipt.payload.payer.lowercased() == payer?.lowercased() }
        return Array(matching.sorted { $0.receivedAt > $1.receivedAt }.prefix(max(0, limit)))
    }
}

/// What a paying client does with `offer-receipt`.
public struct OfferReceiptClientPolicy: Sendable {
    /// Verifies signatures (with the pinned signers, if any).
    public var verifier: OfferReceiptVerifier
    /// Refuse to pay unless every offered requirement carries a good signed offer. Default `false`:
    /// an unsigned 402 is paid; a 402 whose offers are present but bad is always refused.
    public var requireSignedOffers: Bool
    /// How old a receipt may be on arrival.
    public var receiptMaximumAge: Duration
    /// Where receipts are kept; `nil`: the payer's ledger when it is a ``SignedReceiptStore``.
    public var store: (any SignedReceiptStore)?
    /// The buyer's other addresses a receipt's `payer` may name besides the payer's `wallet`
    /// (e.g. its Solana public key).
    public var additionalPayers: [String]

    /// A policy; see the properties for the defaults.
    public init(
        verifier: OfferReceiptVerifier, requireSignedOffers: Bool = false,
        receiptMaximumAge: Duration = OfferReceipt.defaultReceiptMaximumAge, store: (any SignedReceiptStore)? = nil,
        additionalPayers: [String] = []
    ) {
        self.verifier = verifier
        self.requireSignedOffers = requireSignedOffers
        self.receiptMaximumAge = receiptMaximumAge
        self.store = store
        self.additionalPayers = additionalPayers
    }

    /// Checks a 402's signed offers before anything is signed.
    ///
    /// - Returns: The verified offers with their verdicts (empty when the 402 carries none).
    /// - Throws: ``OfferReceiptRefusal`` when the offers are malformed, any signature is invalid
    ///   or from an unexpected signer, or offers are required and missing.
    public func checkOffers(_ required: AnyPaymentRequired, now: Date = Date()) throws(OfferReceiptRefusal) -> [CheckedOffer] {
        let offers: [SignedOffer]
        do { offers = try OfferReceipt.offers(in: required.extensions) } catch { throw .malformedOffers("\(error)") }
        var checked: [CheckedOffer] = []
        for offer in offers {
            let verdict = verifier.verify(offer: offer)
            if verdict.status.isBad { throw .badOffer(verdict) }
            checked.append(CheckedOffer(offer: offer, verification: verdict, problems: OfferReceipt.problems(of: offer.payload, now: now)))
        }
        if requireSignedOffers {
            for (index, option) in required.accepts.enumerated() {
                guard let requirement = option.normalized else { throw .missingOffer(index: index) }
                let good = checked.filter { $0.verification.status == .verified || $0.verification.status == .unpinned }.map(\.offer)
                guard OfferReceipt.offer(for: requirement, in: good, index: index) != nil else { throw .missingOffer(index: index) }
            }
        }
        return checked
    }

    /// Checks the receipt of a settled payment against what was paid and the offer paid for.
    ///
    /// - Parameters:
    ///   - settlement: The settlement response (the receipt is in its extensions).
    ///   - requirement: The requirement paid.
    ///   - resourceURL: The resource's URL as offered.
    ///   - payers: The buyer's addresses.
    ///   - paidOffer: The checked offer that matched the requirement, if any.
    ///   - now: The time the receipt's age is judged at.
    /// - Returns: `nil` when the settlement carries no receipt.
    public func checkReceipt(
        in settlement: SettleResponse, requirement: PaymentRequirements, resourceURL: String, payers: [String], paidOffer: CheckedOffer?,
        now: Date = Date()
    ) -> CheckedReceipt? {
        let receipt: SignedReceipt?
        do { receipt = try OfferReceipt.receipt(in: settlement.extensions) } catch {
            return CheckedReceipt(
                receipt: nil, verification: OfferReceiptVerification(status: .invalid, signer: nil, detail: "malformed receipt: \(error)"),
                problems: [])
        }
        guard let receipt else { return nil }
        var expected: Set<OfferReceiptSignerID> = []
        if let signer = paidOffer?.verification.signer { expected.insert(signer) }
        if expected.isEmpty, let payTo = OfferReceiptSignerID(requirement.payTo), case .address = payTo { expected.insert(payTo) }
        let verdict = verifier.verify(receipt, expected: expected)
        let problems = OfferReceipt.problems(
            of: receipt.payload, resourceURL: paidOffer?.offer.payload.resourceUrl ?? resourceURL, network: requirement.network.identifier,
            payers: payers, transaction: settlement.transaction, now: now, maximumAge: receiptMaximumAge)
        return CheckedReceipt(receipt: receipt, verification: verdict, problems: problems)
    }
}

/// A signed offer with its verdict.
public struct CheckedOffer: Sendable, Hashable {
    /// The offer as received.
    public var offer: SignedOffer
    /// The verdict on its signature and signer.
    public var verification: OfferReceiptVerification
    /// Validity problems (an expired `validUntil`).
    public var problems: [OfferReceiptMismatch]
}

/// A received receipt with its verdict and mismatches.
public struct CheckedReceipt: Sendable, Hashable, CustomStringConvertible {
    /// The receipt; `nil` when it was malformed.
    public var receipt: SignedReceipt?
    /// The verdict on its signature and signer.
    public var verification: OfferReceiptVerification
    /// How it disagrees with the payment (empty: it matches).
    public var problems: [OfferReceiptMismatch]

    /// The signature verified (or verified with nothing pinned) and the receipt matches the payment.
    public var isGood: Bool { (verification.status == .verified || verification.status == .unpinned) && problems.isEmpty }

    /// The status to store: ``OfferReceiptStatus/invalid`` when it mismatches the payment.
    public var effectiveStatus: OfferReceiptStatus { problems.isEmpty ? verification.status : .invalid }

    public var description: String {
        problems.isEmpty ? verification.description : "\(verification); mismatch: \(problems.map(\.description).joined(separator: "; "))"
    }
}

/// Why a client refused to pay a 402 carrying signed offers.
public enum OfferReceiptRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// The `offer-receipt` extension could not be read.
    case malformedOffers(String)
    /// An offer's signature is invalid or from an unexpected signer.
    case badOffer(OfferReceiptVerification)
    /// Signed offers are required and the requirement at this index has none.
    case missingOffer(index: Int)

    public var description: String {
        switch self {
        case .malformedOffers(let why): "the seller's signed offers are malformed: \(why)"
        case .badOffer(let verdict): "a signed offer does not verify: \(verdict)"
        case .missingOffer(let index): "no good signed offer for accepts[\(index)] (signed offers are required)"
        }
    }
}
