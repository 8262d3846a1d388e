import Foundation
import X402

/// Something that signs 32-byte digests for one Ethereum address: a local key, a remote signer,
/// an HSM or a KMS.
///
/// The `exact` client signs EIP-712 digests with it; the facilitator signs transactions with it.
/// Implementations must return low-`s` signatures (EIP-2); ``Signature`` enforces that on parsing.
public protocol EVMSigner: Sendable {
    /// The address whose key produces the signatures.
    var address: EthereumAddress { get }
    /// Signs a 32-byte digest (no further hashing).
    func sign(digest: Bytes32) async throws -> Signature
}

extension PrivateKey: EVMSigner {}

/// The time source of the `exact` roles: Unix seconds, injectable for tests.
public struct UnixClock: Sendable {
    private let read: @Sendable () -> UInt64

    /// A clock reading `read()` on every use.
    public init(_ read: @escaping @Sendable () -> UInt64) { self.read = read }

    /// The current Unix time in whole seconds (rounded down).
    public var now: UInt64 { read() }

    /// The system clock.
    public static let system = UnixClock { UInt64(max(0, Date().timeIntervalSince1970.rounded(.down))) }

    /// A clock that always reads `seconds`.
    public static func fixed(_ seconds: UInt64) -> UnixClock { UnixClock { seconds } }
}
