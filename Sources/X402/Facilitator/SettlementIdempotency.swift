import Foundation

/// The settlement id that tells a facilitator which `/settle` request owns a settlement.
///
/// A signed payment can be forwarded to `/settle` any number of times, byte for byte (a replaying
/// buyer hitting a seller that keeps no replay store does exactly that), so the request body
/// cannot say who owns the settlement. The owner is the first request that starts it; a retry of
/// that request (after a lost answer or `settlement_pending`) is recognised only by the settlement
/// id it carries: a random value the seller generates once per settlement attempt, keeps with its
/// pending payment and sends again on every retry. Every other request for the same
/// authorization is answered as a duplicate (`success: false` with the transaction).
///
/// Over HTTP the id travels in the ``headerName`` request header. In process it travels as the
/// task-local ``current``: the resource server sets it around `FacilitatorClient.settle`, the HTTP
/// facilitator client sends it, the facilitator's routes read it back, and the scheme reads it.
public enum SettlementIdempotency {
    /// The request header carrying the settlement id on `POST /settle`.
    public static let headerName = "Idempotency-Key"

    /// The settlement id of the `/settle` call running in this task, if any.
    @TaskLocal public static var current: String?

    /// A new random settlement id (128 bits, URL-safe).
    public static func newID() -> String {
        "x402-" + UUID().uuidString.lowercased()
    }

    /// Whether `id` is an acceptable settlement id: 16 to 128 characters from `A-Z a-z 0-9 - _ . :`.
    /// Anything else from a peer is ignored (the request is then treated as carrying none).
    public static func isAcceptable(_ id: String) -> Bool {
        guard (16...128).contains(id.utf8.count) else { return false }
        for c in id.utf8 {
            let ok =
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F
                || c == 0x2E || c == 0x3A
            if !ok { return false }
        }
        return true
    }

    /// The acceptable settlement id of this task, if any.
    public static var acceptableCurrent: String? {
        guard let id = current, isAcceptable(id) else { return nil }
        return id
    }
}
