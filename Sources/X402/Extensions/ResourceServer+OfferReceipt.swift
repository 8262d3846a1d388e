public import Foundation

extension OfferReceipt {
    /// A route's `offer-receipt` options, declared in its ``PaidRoute/extensions`` (the TS
    /// `declareOfferReceiptExtension` shape: `{"includeTxHash": bool, "offerValiditySeconds": n}`).
    /// The server replaces the declaration with the signed offers in each 402.
    public struct RouteOptions: Sendable, Hashable {
        /// Put the settlement transaction in receipts (default `false`: private).
        public var includeTransaction: Bool
        /// How long a signed offer stays valid (at most a year); `nil`: the requirement's
        /// `maxTimeoutSeconds`.
        public var offerValiditySeconds: Int?

        /// Route options; see the properties for the defaults.
        public init(includeTransaction: Bool = false, offerValiditySeconds: Int? = nil) {
            self.includeTransaction = includeTransaction
            self.offerValiditySeconds = offerValiditySeconds
        }

        /// The declaration put under `extensions["offer-receipt"]` of a route.
        public var declaration: JSONValue {
            var members: JSONObject = ["includeTxHash": .bool(includeTransaction)]
            if let offerValiditySeconds { members["offerValiditySeconds"] = .number(JSONNumber(offerValiditySeconds)) }
            return .object(members)
        }

        /// The options declared in a route's extensions, `nil` when the route does not declare
        /// the extension.
        public init?(extensions: JSONObject?) {
            guard let value = extensions?[OfferReceipt.extensionKey] else { return nil }
            includeTransaction = value["includeTxHash"]?.boolValue ?? false
            offerValiditySeconds = value["offerValiditySeconds"]?.intValue.flatMap { $0 > 0 ? $0 : nil }
        }
    }

    /// The seller's signing settings (`ResourceServer.Configuration.offerReceipts`).
    public struct Signing: Sendable {
        /// Signs the offers and receipts.
        public var signer: any OfferReceiptSigner
        /// The clock (replaced in tests).
        public var now: @Sendable () -> Date

        /// Signing settings.
        ///
        /// - Parameters:
        ///   - signer: The signer (EIP-712 or JWS); its key comes from the environment or a file,
        ///     never from arguments.
        ///   - now: The clock offers and receipts are dated by.
        public init(signer: any OfferReceiptSigner, now: @escaping @Sendable () -> Date = Date.init) {
            self.signer = signer
            self.now = now
        }

        /// The extension value with one signed offer per requirement, in order; `nil` when no
        /// offer could be signed (the 402 then goes without the extension).
        /// Offers signed recently, reused while at least half their validity is left: an unpaid
        /// request costs no signature (a flood of 402s would otherwise cost one per offer each).
        let cache = BoundedCache<SignedOfferKey, JSONValue, UInt64>(capacity: 1024)

        func offersExtension(for requirements: [PaymentRequirements], resourceURL: String, options: RouteOptions) async -> JSONValue? {
            let now = UInt64(max(0, now().timeIntervalSince1970))
            let key = SignedOfferKey(resourceURL: resourceURL, requirements: requirements, options: options)
            if let cached = cache.value(for: key, now: now) { return cached }
            guard let (value, freshUntil) = await signOffers(for: requirements, resourceURL: resourceURL, options: options, now: now) else {
                return nil
            }
            cache.store(value, for: key, until: freshUntil)
            return value
        }

        private func signOffers(
            for requirements: [PaymentRequirements], resourceURL: String, options: RouteOptions, now: UInt64
        ) async -> (JSONValue, freshUntil: UInt64)? {
            var freshUntil = UInt64.max
            var offers: [SignedOffer] = []
            for (index, requirement) in requirements.enumerated() {
                // At most a year, so `validUntil` stays an exact integer for every JSON reader.
                let validity = UInt64(min(max(1, options.offerValiditySeconds ?? requirement.maxTimeoutSeconds ?? 300), 31_536_000))
                let payload = OfferPayload(requirements: requirement, resourceUrl: resourceURL, validUntil: now + validity)
                if let offer = try? await signer.sign(offer: payload, acceptIndex: index) { offers.append(offer) }
                freshUntil = min(freshUntil, now + validity / 2)
            }
            return offers.isEmpty ? nil : (OfferReceipt.offersExtension(offers), freshUntil)
        }

        /// The settlement with a signed receipt added; unchanged when it cannot be signed.
        func addingReceipt(to settlement: SettleResponse, resourceURL: String, network: String, options: RouteOptions) async -> SettleResponse {
            guard settlement.success, let payer = settlement.payer, !payer.isEmpty else { return settlement }
            let transaction = options.includeTransaction && !settlement.transaction.isEmpty ? settlement.transaction : nil
            let payload = ReceiptPayload(
                network: network, resourceUrl: resourceURL, payer: payer, issuedAt: UInt64(max(0, now().timeIntervalSince1970)),
                transaction: transaction)
            guard let receipt = try? await signer.sign(receipt: payload) else { return settlement }
            var signed = settlement
            var extensions = signed.extensions ?? [:]
            extensions[OfferReceipt.extensionKey] = OfferReceipt.receiptExtension(receipt)
            signed.extensions = extensions
            return signed
        }
    }
}

extension PaidRoute {
    /// This route with signed offers and receipts (needs `ResourceServer.Configuration.offerReceipts`).
    ///
    /// - Parameter options: Whether receipts name the transaction, and how long offers last.
    public func signingOffersAndReceipts(_ options: OfferReceipt.RouteOptions = OfferReceipt.RouteOptions()) -> PaidRoute {
        var route = self
        var extensions = route.extensions ?? [:]
        extensions[OfferReceipt.extensionKey] = options.declaration
        route.extensions = extensions
        return route
    }
}

extension ResourceServer {
    /// The 402's extensions with the route's `offer-receipt` declaration replaced by signed
    /// offers (or removed when they cannot be signed).
    func signingOffers(
        in extensions: JSONObject?, requirements: [PaymentRequirements], resourceURL: String
    ) async -> JSONObject? {
        guard var extensions, let options = OfferReceipt.RouteOptions(extensions: extensions) else { return extensions }
        extensions[OfferReceipt.extensionKey] = nil
        if let offerReceipts, let value = await offerReceipts.offersExtension(for: requirements, resourceURL: resourceURL, options: options) {
            extensions[OfferReceipt.extensionKey] = value
        }
        return extensions.isEmpty ? nil : extensions
    }

    /// The settlement with a signed receipt when the paid route declares `offer-receipt`.
    func addingReceipt(to settlement: SettleResponse, for payment: PendingPayment) async -> SettleResponse {
        guard let offerReceipts, let route = routes.resolveRoute(payment.request),
            let options = OfferReceipt.RouteOptions(extensions: route.extensions),
            let resourceURL = payment.paymentRequired?.resource?.url,
            let network = payment.attempt.requirements.normalized?.network.identifier
        else { return settlement }
        return await offerReceipts.addingReceipt(to: settlement, resourceURL: resourceURL, network: network, options: options)
    }
}

extension RouteTable {
    /// The paid route of `request`, if any.
    func resolveRoute(_ request: ServerRequest) -> PaidRoute? {
        if case .paid(_, let route, _) = resolve(request) { return route }
        return nil
    }
}

/// The key of a signed offer set: the resource, the requirements (as JSON) and the options.
struct SignedOfferKey: Hashable {
    let resourceURL: String
    let requirements: [String]
    let options: OfferReceipt.RouteOptions

    init(resourceURL: String, requirements: [PaymentRequirements], options: OfferReceipt.RouteOptions) {
        self.resourceURL = resourceURL
        self.requirements = requirements.map { $0.json.serializedString() }
        self.options = options
    }
}
