public import Foundation

/// Signs sign-in messages for one account (the EVM signer is `EVMSignInSigner` in `X402EVM`; a
/// Solana one signs with Ed25519).
public protocol SignInSigner: Sendable {
    /// `eip191` or `ed25519`: the chains of this type are the ones this signer can sign in on.
    var signatureType: SignInSignatureType { get }
    /// The account, as it appears in the message (EIP-55 for EVM, base58 for Solana).
    var address: String { get }
    /// Signs the UTF-8 message: EVM `0x` + 65-byte hex, Solana base58.
    func signMessage(_ message: String) async throws -> String
}

/// A server's `sign-in-with-x` challenge as a client reads it from `PaymentRequired.extensions`.
public struct SignInChallenge: Sendable, Hashable {
    /// The `info` fields (`domain`, `uri`, `nonce`, times…), kept as sent.
    public var info: JSONObject
    /// `supportedChains`: CAIP-2 chain and signature type, in the server's order.
    public var chains: [(chainID: String, type: SignInSignatureType)]

    /// Reads the challenge from a 402's extensions; `nil` when absent or malformed.
    ///
    /// - Parameter extensions: `PaymentRequired.extensions`.
    public init?(extensions: JSONObject?) {
        guard let ext = extensions?[SignInWithX.extensionKey]?.objectValue, let info = ext["info"]?.objectValue else { return nil }
        self.info = info
        var chains: [(String, SignInSignatureType)] = []
        for item in (ext["supportedChains"]?.arrayValue ?? []).prefix(32) {
            guard let id = item["chainId"]?.stringValue, let type = item["type"]?.stringValue else { continue }
            chains.append((id, SignInSignatureType(rawValue: type)))
        }
        self.chains = chains
    }

    public static func == (lhs: SignInChallenge, rhs: SignInChallenge) -> Bool {
        lhs.info == rhs.info && lhs.chains.map(\.chainID) == rhs.chains.map(\.chainID) && lhs.chains.map(\.type) == rhs.chains.map(\.type)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(info)
        for c in chains { hasher.combine(c.chainID) }
    }

    /// Answers the challenge with `signer`: takes the first chain of the signer's type, checks that
    /// the challenge is bound to the origin that sent it (`domain` is its authority, `uri` is on
    /// it), builds the message and signs it.
    ///
    /// - Parameters:
    ///   - signer: The wallet.
    ///   - responseURL: The URL that answered 402 (after redirects).
    /// - Returns: The proof for the `SIGN-IN-WITH-X` header.
    /// - Throws: ``SignInWithXFailure`` when no chain fits, the challenge is malformed or bound to
    ///   another origin; or the signer's error.
    public func proof(signer: some SignInSigner, responseURL: String) async throws -> SignInWithXProof {
        guard let chain = chains.first(where: { $0.type == signer.signatureType }) else {
            throw SignInWithXFailure(.siwxUnsupportedChain, "the server offers no \(signer.signatureType) chain")
        }
        func string(_ key: String) -> String? { info[key]?.stringValue }
        guard let domain = string("domain"), let uri = string("uri"), let nonce = string("nonce"), let issuedAt = string("issuedAt") else {
            throw SignInWithXFailure(.siwxInvalidPayload, "the challenge lacks domain, uri, nonce or issuedAt")
        }
        guard let (responseOrigin, responseAuthority) = SignInOrigin.of(uri: responseURL),
            domain.lowercased() == responseAuthority || domain.lowercased() == Self.host(of: responseAuthority),
            let (uriOrigin, _) = SignInOrigin.of(uri: uri), uriOrigin == responseOrigin || Self.sameOrigin(uriOrigin, responseURL)
        else {
            throw SignInWithXFailure(.siwxDomainMismatch, "the challenge is not bound to the origin that sent it")
        }
        var resources: [String]?
        if let items = info["resources"]?.arrayValue { resources = items.compactMap(\.stringValue) }
        let fields = SignInFields(
            domain: domain, statement: string("statement"), uri: uri, version: string("version") ?? "1", chainID: chain.chainID, nonce: nonce,
            issuedAt: issuedAt, expirationTime: string("expirationTime"), notBefore: string("notBefore"), requestID: string("requestId"),
            resources: resources)
        let message = try SignInMessage.text(fields, address: signer.address)
        let signature = try await signer.signMessage(message)
        return SignInWithXProof(
            domain: domain, address: signer.address, statement: fields.statement, uri: uri, version: fields.version, chainID: chain.chainID,
            type: chain.type, nonce: nonce, issuedAt: issuedAt, expirationTime: fields.expirationTime, notBefore: fields.notBefore,
            requestID: fields.requestID, resources: resources, signatureScheme: string("signatureScheme"), signature: signature)
    }

    /// The host of an authority, without its port (servers that bind `domain` to the host name).
    static func host(of authority: String) -> String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") { return String(authority[...close]) }
        if let colon = authority.lastIndex(of: ":") { return String(authority[..<colon]) }
        return authority
    }

    /// Origins equal once default ports are dropped (`http://h:80` is `http://h`).
    static func sameOrigin(_ origin: String, _ url: String) -> Bool {
        func strip(_ o: String) -> String {
            if o.hasPrefix("http://"), o.hasSuffix(":80") { return String(o.dropLast(3)) }
            if o.hasPrefix("https://"), o.hasSuffix(":443") { return String(o.dropLast(4)) }
            return o
        }
        guard let (other, _) = SignInOrigin.of(uri: url) else { return false }
        return strip(origin) == strip(other)
    }
}

extension SpendLedger {
    /// Whether `wallet` has a settled payment for `resource` (same origin and path; query
    /// ignored) among its last `limit` records: the client's reason to sign in instead of paying.
    public func hasSettledPayment(for resource: String, wallet: String, limit: Int = 1000) async -> Bool {
        await settledPayers(for: resource, wallet: wallet, limit: limit) != nil
    }

    /// The payers (as the settlement receipts named them; `nil` where a receipt named none) of
    /// `wallet`'s settled payments for `resource` among its last `limit` records; `nil` when there
    /// is no such payment. A sign-in must prove the account that paid, so a buyer with several
    /// accounts signs in with the one these name.
    public func settledPayers(for resource: String, wallet: String, limit: Int = 1000) async -> [String?]? {
        guard let wanted = SpendLedgerResource(resource) else { return nil }
        guard let records = try? await history(wallet: wallet, limit: limit) else { return nil }
        let payers = records.filter { $0.status == .settled && $0.resource.flatMap(SpendLedgerResource.init) == wanted }.map(\.payer)
        return payers.isEmpty ? nil : payers
    }
}

extension SignInChallenge {
    /// The wallet to sign in with, from `signers` in order of preference: one whose signature
    /// type the challenge offers and whose address paid for the resource (`payers`, from
    /// ``SpendLedger/settledPayers(for:wallet:limit:)``; a payment whose receipt named no payer
    /// counts for the first signer only). With `payers` `nil` (a route that takes no payment),
    /// the first signer the challenge accepts. `nil`: no wallet can sign in.
    public func signer(among signers: [any SignInSigner], payers: [String?]?) -> (any SignInSigner)? {
        let usable = signers.enumerated().filter { _, signer in chains.contains { $0.type == signer.signatureType } }
        guard let payers else { return usable.first?.element }
        for (index, signer) in usable {
            for payer in payers {
                guard let payer else {
                    if index == 0 { return signer }
                    continue
                }
                // EVM addresses in any case; other accounts (base58) exactly.
                if payer == signer.address || (payer.hasPrefix("0x") && payer.lowercased() == signer.address.lowercased()) {
                    return signer
                }
            }
        }
        return nil
    }
}

/// A resource URL reduced to origin and path, the unit a sign-in grant covers.
struct SpendLedgerResource: Hashable {
    let origin: String
    let path: String

    init?(_ url: String) {
        guard let (origin, _) = SignInOrigin.of(uri: url), let sep = url.range(of: "://") else { return nil }
        let rest = url[sep.upperBound...]
        let start = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let tail = rest[start...]
        let end = tail.firstIndex { $0 == "?" || $0 == "#" } ?? tail.endIndex
        let path = String(tail[..<end])
        self.origin = origin
        self.path = path.isEmpty ? "/" : path
    }
}
