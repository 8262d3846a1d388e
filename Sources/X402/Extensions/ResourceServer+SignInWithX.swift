import Foundation

extension ResourceServer {
    /// Checks a `SIGN-IN-WITH-X` proof for a route that allows sign-in (spec steps 1–8): decode,
    /// binding to the configured origin, times, a chain the route offers (`networks`: its
    /// accepted networks), signature, then the grant (auth-only, or a paid
    /// record for the request's canonical path) and the nonce, consumed only on a grant.
    ///
    /// - Throws: ``SignInWithXFailure`` with the reason the proof was refused; the request then
    ///   goes on to the normal payment flow.
    func signIn(
        _ header: String, request: ServerRequest, policy: SignInAccess, settings: SignInWithX.Server, networks: [String]
    ) async throws(SignInWithXFailure)
        -> SignedInAccount
    {
        let proof = try SignInWithXProof(headerValue: header)
        let now = Date()
        let account = try await settings.verify(proof, now: now, networks: networks)
        if case .afterPayment = policy {
            let path: String
            do { path = try RequestPath(request.path).canonical } catch { throw SignInWithXFailure(.siwxURIMismatch, "unusable request path") }
            let paid: Bool
            do {
                paid = try await settings.store.hasAccess(resource: path, account: account, now: now)
            } catch {
                throw SignInWithXFailure(.siwxVerifierError, "access store unavailable")
            }
            guard paid else { throw SignInWithXFailure(.siwxNoAccess, "no payment by this account grants access to \(path)") }
        }
        let fresh: Bool
        do {
            fresh = try await settings.store.consumeNonce(proof.nonce, expiresAt: settings.nonceRetention(proof, now: now), now: now)
        } catch {
            throw SignInWithXFailure(.siwxVerifierError, "access store unavailable")
        }
        guard fresh else { throw SignInWithXFailure(.siwxNonce, "nonce already used") }
        return SignedInAccount(account: account, chainID: proof.chainID)
    }

    /// After a successful settlement on a route that allows sign-in after payment, records that
    /// the payer may sign in to the request's canonical path for the route's period.
    func recordSignInGrant(for attempt: PaymentAttempt, payer: String?) async {
        guard let settings = signInWithX, let payer, !payer.isEmpty,
            case .paid(_, let route, _) = routes.resolve(attempt.request), case .afterPayment(let period) = route.signIn,
            let path = try? RequestPath(attempt.request.path).canonical
        else { return }
        let now = Date()
        let until = period.map { now.addingTimeInterval($0.timeInterval) } ?? .distantFuture
        try? await settings.store.recordGrant(SignInGrant(resource: path, account: SignInGrant.canonicalAccount(payer), expiresAt: until))
    }
}

/// The wallet a request was served to on a sign-in.
public struct SignedInAccount: Sendable, Hashable {
    /// The account (canonical form: lower-case hex for EVM).
    public var account: String
    /// The CAIP-2 chain of the proof.
    public var chainID: String
}

extension ErrorReason {
    /// A valid proof, but its account has no paid access to the resource (this package's own
    /// reason; the reference SDKs fall through to the 402 silently).
    public static let siwxNoAccess: ErrorReason = "invalid_siwx_no_access"
}
