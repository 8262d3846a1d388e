import Foundation
public import X402

extension GatewayConfiguration {
    /// The top-level `offerReceipts` member: how the gateway signs the `offer-receipt` extension's
    /// offers and receipts for the routes that declare it. The key comes from an environment
    /// variable or a file, never from the configuration itself.
    ///
    /// ```json
    /// "offerReceipts": { "format": "eip712", "keyEnv": "X402_OFFER_KEY" },
    /// "routes": [ { "route": "GET /report", "price": "$0.10", "offerReceipt": { "includeTxHash": true } } ]
    /// ```
    public struct OfferReceiptSigning: Sendable, Equatable, Codable {
        /// How offers and receipts are signed.
        public enum Format: String, Sendable, Equatable, Codable, CaseIterable {
            /// EIP-712 with an EVM key (its address should be the routes' `payTo`).
            case eip712
            /// JWS `ES256K` with an EVM key (`kid` is the key's `did:key`).
            case jws
            /// JWS `EdDSA` with a Solana keypair (`solana-keygen` JSON or base58).
            case eddsa
        }

        /// How offers and receipts are signed.
        public var format: Format
        /// The environment variable holding the key (hex for EVM, a keypair for `eddsa`).
        public var keyEnv: String?
        /// A file holding the key (keep it `0600`).
        public var keyFile: String?

        /// The member as in the file: set exactly one of `keyEnv` and `keyFile`.
        public init(format: Format, keyEnv: String? = nil, keyFile: String? = nil) {
            self.format = format
            self.keyEnv = keyEnv
            self.keyFile = keyFile
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case format, keyEnv, keyFile
        }

        /// Where the signing key is read from.
        public enum KeySource: Sendable, Equatable {
            /// An environment variable.
            case environment(String)
            /// A file.
            case file(String)
        }

        /// The one key source the member names (an empty name counts as none).
        ///
        /// - Throws: ``GatewayConfigurationError/invalidValue(_:_:)`` unless exactly one is set.
        public func keySource() throws(GatewayConfigurationError) -> KeySource {
            switch (keyEnv.flatMap { $0.isEmpty ? nil : $0 }, keyFile.flatMap { $0.isEmpty ? nil : $0 }) {
            case (let name?, nil): return .environment(name)
            case (nil, let path?): return .file(path)
            default: throw .invalidValue("offerReceipts", "set exactly one of keyEnv and keyFile")
            }
        }
    }

    /// A route's `offerReceipt` member: `true`, or an object with the route's options.
    public struct OfferReceiptRoute: Sendable, Equatable, Codable {
        /// Put the settlement transaction in receipts (default `false`).
        public var includeTxHash: Bool?
        /// How long a signed offer stays valid; the requirement's `maxTimeoutSeconds` when `nil`.
        public var offerValiditySeconds: Int?

        /// The member as in the file.
        public init(includeTxHash: Bool? = nil, offerValiditySeconds: Int? = nil) {
            self.includeTxHash = includeTxHash
            self.offerValiditySeconds = offerValiditySeconds
        }

        public init(from decoder: any Decoder) throws {
            if let flag = try? decoder.singleValueContainer().decode(Bool.self) {
                guard flag else {
                    throw DecodingError.dataCorrupted(
                        .init(codingPath: decoder.codingPath, debugDescription: "offerReceipt is true or an object; leave it out to sign nothing"))
                }
                self.init()
                return
            }
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                includeTxHash: try c.decodeIfPresent(Bool.self, forKey: .includeTxHash),
                offerValiditySeconds: try c.decodeIfPresent(Int.self, forKey: .offerValiditySeconds))
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case includeTxHash, offerValiditySeconds
        }

        static var schema: ConfigurationSchema {
            var members: [String: ConfigurationSchema] = [:]
            for key in CodingKeys.allCases { members[key.rawValue] = .value }
            return .object(members)
        }

        /// The resource server's options for the route.
        var options: OfferReceipt.RouteOptions {
            OfferReceipt.RouteOptions(includeTransaction: includeTxHash ?? false, offerValiditySeconds: offerValiditySeconds)
        }
    }

    /// Checks the signing member and the routes that declare `offerReceipt`.
    func validateOfferReceipts() throws(GatewayConfigurationError) {
        _ = try offerReceipts?.keySource()
        for route in routes {
            guard let declared = route.offerReceipt else { continue }
            guard offerReceipts != nil else {
                throw .invalidRoute(route.route, "offerReceipt needs the top-level offerReceipts member (how to sign)")
            }
            if let seconds = declared.offerValiditySeconds, !(1...31_536_000).contains(seconds) {
                throw .invalidRoute(route.route, "offerReceipt.offerValiditySeconds must be from 1 to 31536000")
            }
        }
    }
}
