// libFuzzer target: the v2 extensions' decoders and checks, fed the way a peer's bytes reach them.
//
// - sign-in-with-x: the seller decodes a `SIGN-IN-WITH-X` header and verifies the proof (origin
//   binding, times, message text, EIP-191 recovery or Ed25519); the client reads a 402's challenge
//   and signs an answer to it.
// - offer-receipt: the client checks a 402's signed offers and a settlement's signed receipt
//   (EIP-712 recovery, JWS `ES256K` and `EdDSA`), and the CLI reads an exported receipt file.
// - payment-identifier: the seller and the facilitator read a payment's id; the client adds its
//   own id to a 402's declaration.
// - bazaar: the facilitator catalogs what a settled payment declares (the schema check with its
//   real budgets) and serves it back.
//
// Every input is tried as a header value (base64), as a body or file, as the JSON inside a header
// (so the fuzzer reaches the decoders without first having to discover base64), as a bare extension
// value, and as a token (a compact JWS, a `did:key`, a time). Keys and clocks are fixed: the clocks
// sit inside the validity windows of the committed samples, so mutations of a sample reach the
// signature checks with well-formed but wrong signatures.
import Foundation
import FuzzSupport
import X402
import X402EVM
import X402Facilitator
import X402Solana

// MARK: - Fixed keys, clocks and settings

/// The sign-in clock: one minute after the samples' `issuedAt` (2024-01-15T10:30:00Z).
let signInNow = Date(timeIntervalSince1970: 1_705_314_660)
/// The offer-receipt clock: after the samples' receipt `issuedAt` (1703123456), before their
/// offers' `validUntil` (1703123516).
let offerReceiptNow = Date(timeIntervalSince1970: 1_703_123_480)
/// The resource the samples are for.
let resourceURL = "https://api.example.com/premium-data"

/// The sellers a proof may be for: the samples' two origins (a proof is checked by the one whose
/// domain it names), each verifying both chain namespaces.
let signInServers = [
    try! SignInWithX.Server(origin: "https://api.example.com", verifiers: [EVMSignInVerifier(), SolanaSignInVerifier()]),
    try! SignInWithX.Server(origin: "http://127.0.0.1:8080", verifiers: [EVMSignInVerifier(), SolanaSignInVerifier()]),
]
/// The route's accepted networks (what the seller passes as `networks`).
let signInNetworks = [
    "eip155:8453", "eip155:84532", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
]

/// The client's wallets: Hardhat account #0 (a public test key) and a fixed Ed25519 seed.
let signInSigners: [any SignInSigner] = [
    EVMSignInSigner(key: try! PrivateKey(hex: "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")),
    SolanaSignInSigner(keypair: try! SolanaKeypair(seed: [UInt8](repeating: 1, count: 32))),
]

/// The signers of the committed offer-receipt samples, pinned by the second verifier.
let pinnedSigners = OfferReceiptTrust(signers: [
    .address("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
    .key(try! DIDKey("did:key:zQ3shoTr3pToxjQqfp58mLTBt3GqPvdQSZpm4eGXFZbTVwpyz")),
    .key(try! DIDKey("did:key:z6MkneMkZqwqRiU5mJzSG3kDwzt9P8C59N4NGTfBLfSGE7c7")),
])
/// Nothing pinned (a JWS is checked under its `did:key` kid), and the samples' signers pinned
/// (a JWS whose kid cannot be resolved offline is checked under the pinned keys).
let offerReceiptVerifiers = [
    OfferReceiptVerifier.evm(additionalJWS: [EdDSAVerifier()]),
    OfferReceiptVerifier.evm(trust: pinnedSigners, additionalJWS: [EdDSAVerifier()]),
]
let offerReceiptPolicies = [
    OfferReceiptClientPolicy(verifier: offerReceiptVerifiers[0], requireSignedOffers: true),
    OfferReceiptClientPolicy(verifier: offerReceiptVerifiers[1]),
]
/// The requirement paid (the samples' offer), the buyer's address and the client's payment id.
let paidRequirement = PaymentRequirements(
    scheme: "exact", network: .base, amount: "10000", asset: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
    payTo: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", maxTimeoutSeconds: 60)
let payers = ["0x857b06519E91e3A54538791bDbb0E22373e36b66"]
let clientPaymentID = "pay_0123456789abcdef0123456789abcdef"

// MARK: - The target

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzExtensions(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    let text = String(decoding: bytes, as: UTF8.self)

    // Header values, bodies and files, through the decoders the seller, the client, the
    // facilitator and the CLI call on them.
    if let proof = try? SignInWithXProof(headerValue: text) { sellerSignIn(proof) }
    if let required = try? AnyPaymentRequired(header: text, body: [UInt8]()) { client(required) }
    if let required = try? AnyPaymentRequired(header: nil, body: bytes) { client(required) }
    if let settlement = try? SettleResponse(headerValue: text) { clientReceipt(settlement) }
    if let payment = try? AnyPaymentPayload(headerValue: text) { _ = try? PaymentIdentifier.id(in: payment) }
    if let request = try? IncomingFacilitatorRequest(jsonBytes: bytes) { facilitator(request) }
    if let receipt = try? OfferReceipt.receipt(fromFile: bytes) { check(receipt) }
    tokens(text)

    if let json = try? JSONValue(parsing: bytes) { objects(json) }
    return 0
}

/// The JSON inside the headers, bare signed objects and bare extension values.
func objects(_ json: JSONValue) {
    if let proof = try? SignInWithXProof(json: json) { sellerSignIn(proof) }
    if let settlement = try? SettleResponse(json: json) { clientReceipt(settlement) }
    if let payment = try? AnyPaymentPayload(json: json) { _ = try? PaymentIdentifier.id(in: payment) }
    if let offer = try? SignedOffer(json: json) { check(offer) }
    if let receipt = try? SignedReceipt(json: json) { check(receipt) }
    // An `extensions` object: as a 402's (offers, challenge, declaration) and a settlement's (receipt).
    if let extensions = json.objectValue,
        [OfferReceipt.extensionKey, SignInWithX.extensionKey, PaymentIdentifier.extensionKey].contains(where: { extensions[$0] != nil })
    {
        client(.v2(PaymentRequired(resource: ResourceInfo(url: resourceURL), accepts: [paidRequirement], extensions: extensions)))
        clientReceipt(
            SettleResponse(
                success: true, transaction: "0x" + String(repeating: "ab", count: 32), network: "eip155:8453", payer: payers[0],
                extensions: extensions))
    }
    // A bazaar extension value alone, in a payment and in a request body; and the value as both
    // instance and schema.
    for value in [json, json["extensions"]?["bazaar"], json["paymentPayload"]?["extensions"]?["bazaar"]] { catalogCheck(value) }
    _ = try? BazaarSchema.validate(json, against: json)
}

// MARK: - sign-in-with-x

/// The seller: a decoded proof, checked by the server its domain names (binding, times, chain,
/// message, signature). The nonce store is not involved: it is reached only after a valid signature.
func sellerSignIn(_ proof: SignInWithXProof) {
    guard (try? SignInWithXProof(json: proof.json)) == proof else {
        fatalError("a sign-in proof does not decode from its own JSON: \(proof.json.serializedString())")
    }
    let server = signInServers.first { $0.domain == proof.domain } ?? signInServers[0]
    blocking { _ = try? await server.verify(proof, now: signInNow, networks: signInNetworks) }
}

/// The client: a 402's challenge answered by each wallet. What a wallet signs, the verifier of its
/// chain must accept: the message the server rebuilds from the proof is the one signed.
func clientSignIn(_ challenge: SignInChallenge) {
    blocking {
        for signer in signInSigners {
            guard let proof = try? await challenge.proof(signer: signer, responseURL: resourceURL) else { continue }
            guard let message = try? SignInMessage.text(proof.fields, address: proof.address) else {
                fatalError("the client signed a proof whose message cannot be rebuilt: \(proof.json.serializedString())")
            }
            let verifier: any SignInSignatureVerifier = proof.type == .eip191 ? EVMSignInVerifier() : SolanaSignInVerifier()
            switch await verifier.verify(proof, message: message) {
            case .success(let account):
                guard account == SignInGrant.canonicalAccount(signer.address) else { fatalError("the proof verified as \(account)") }
            case .failure(let failure) where failure.reason == .siwxChainID:
                break  // The server offered a chain id its namespace's verifier refuses.
            case .failure(let failure):
                fatalError("the client's own proof does not verify (\(failure)): \(proof.json.serializedString())")
            }
        }
    }
}

// MARK: - The client's reading of a 402 and of a settlement

func client(_ required: AnyPaymentRequired) {
    if let offers = try? OfferReceipt.offers(in: required.extensions) {
        for offer in offers { roundTrip(offer) }
    }
    for policy in offerReceiptPolicies { _ = try? policy.checkOffers(required, now: offerReceiptNow) }
    if let challenge = SignInChallenge(extensions: required.extensions) { clientSignIn(challenge) }
    // The client adds its id to a declared payment-identifier; the seller then reads that id.
    if PaymentIdentifier.isDeclared(in: required.extensions) {
        let extensions = PaymentIdentifier.adding(clientPaymentID, to: required.extensions)
        let payment = AnyPaymentPayload.v2(PaymentPayload(accepted: paidRequirement, payload: [:], extensions: extensions))
        guard (try? PaymentIdentifier.id(in: payment)) == clientPaymentID else { fatalError("the client's payment id is not read back") }
    }
}

func clientReceipt(_ settlement: SettleResponse) {
    if let receipt = try? OfferReceipt.receipt(in: settlement.extensions) { roundTrip(receipt) }
    for policy in offerReceiptPolicies {
        _ = policy.checkReceipt(
            in: settlement, requirement: paidRequirement, resourceURL: resourceURL, payers: payers, paidOffer: nil, now: offerReceiptNow)
    }
}

// MARK: - offer-receipt objects

func check(_ offer: SignedOffer) {
    roundTrip(offer)
    for verifier in offerReceiptVerifiers { _ = verifier.verify(offer: offer) }
    _ = OfferReceipt.problems(of: offer.payload, now: offerReceiptNow)
    _ = OfferReceipt.offer(for: paidRequirement, in: [offer], index: offer.acceptIndex)
}

func check(_ receipt: SignedReceipt) {
    roundTrip(receipt)
    for verifier in offerReceiptVerifiers { _ = verifier.verify(receipt) }
    _ = OfferReceipt.problems(
        of: receipt.payload, resourceURL: resourceURL, network: "eip155:8453", payers: payers, transaction: nil, now: offerReceiptNow)
}

/// A decoded signed object's JSON decodes to the same object.
func roundTrip<P>(_ object: SignedPayload<P>) {
    guard (try? SignedPayload<P>(json: object.json)) == object else {
        fatalError("a signed \(P.self) does not decode from its own JSON: \(object.json.serializedString())")
    }
}

// MARK: - Tokens

/// The input as one token: a compact JWS, base64url, a `did:key`, a signer id, a time, a chain id,
/// a payment id.
func tokens(_ text: String) {
    if let jws = try? CompactJWS(text) {
        guard text.utf8.starts(with: jws.signingInput) else { fatalError("the JWS signing input is not the input's prefix") }
    }
    if let offer = try? SignedOffer(jws: text) { check(offer) }
    if let receipt = try? SignedReceipt(jws: text) { check(receipt) }
    // Base64url decoding is canonical: each byte string has one accepted encoding.
    if let decoded = Base64URL.decode(text), Base64URL.encode(decoded) != text { fatalError("base64url accepted a non-canonical form") }
    if let key = try? DIDKey(text) {
        guard (try? DIDKey(key.did)) == key, (try? DIDKey(key.keyID)) == key else { fatalError("a did:key does not survive its own form") }
    }
    _ = OfferReceiptSignerID(text)
    _ = SignInTime.parse(text)
    _ = SignInMessage.evmChainNumber(text)
    _ = PaymentIdentifier.isValid(text)
}

// MARK: - The facilitator

/// A `/settle` body as the facilitator reads it after a successful settlement: the journal's
/// payment id, then the bazaar catalog (a fresh one per input, on the fixed clock), whose page a
/// client must be able to read back.
func facilitator(_ incoming: IncomingFacilitatorRequest) {
    guard case .payment(let request) = incoming else { return }
    _ = try? PaymentIdentifier.id(in: request.paymentPayload)
    blocking {
        let catalog = DiscoveryCatalog(now: { offerReceiptNow })
        await catalog.record(request)
        guard let page = try? await catalog.page(type: nil, limit: 10, offset: 0) else { return }
        guard (try? DiscoveryResponse(json: page.json)) != nil else {
            fatalError("the catalog serves a page no client reads: \(page.json.serializedString())")
        }
    }
}

/// The catalog's check of a seller's bazaar value (`DiscoveryCatalog`): no external reference,
/// then `info` against `schema` with the real depth and step budgets.
func catalogCheck(_ value: JSONValue?) {
    guard let value, let info = value["info"]?.objectValue, let schema = value["schema"] else { return }
    _ = BazaarSchema.externalReference(in: schema)
    _ = try? BazaarSchema.validate(.object(info), against: schema)
}

// MARK: - Support

/// Runs `work` to completion on the concurrency runtime and waits for it (libFuzzer's callback
/// is synchronous; the sign-in verifiers and the catalog are async).
func blocking(_ work: @escaping @Sendable () async -> Void) {
    let done = DispatchSemaphore(value: 0)
    Task {
        await work()
        done.signal()
    }
    done.wait()
}

// MARK: - Entry point

@_cdecl("FuzzExtensions_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzExtensions)
}
