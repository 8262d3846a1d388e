/// ERC-6492 signatures for not-yet-deployed smart wallets:
/// `abi.encode(address factory, bytes factoryCalldata, bytes innerSignature) ‖ magic`.
public struct ERC6492Signature: Sendable, Hashable {
    /// The 32-byte suffix `0x6492…6492` that marks a wrapped signature.
    public static let magicSuffix: [UInt8] = Array(repeating: [0x64, 0x92], count: 16).flatMap { $0 }

    /// The wallet factory (the zero address means "no deployment data").
    public let factory: EthereumAddress
    public let factoryCalldata: [UInt8]
    /// The signature the deployed wallet validates (ERC-1271), or a plain 65-byte EOA signature.
    public let innerSignature: [UInt8]

    public init(factory: EthereumAddress, factoryCalldata: [UInt8], innerSignature: [UInt8]) {
        self.factory = factory
        self.factoryCalldata = factoryCalldata
        self.innerSignature = innerSignature
    }

    /// Whether `signature` ends with the ERC-6492 magic suffix.
    public static func isWrapped(_ signature: some Collection<UInt8>) -> Bool {
        signature.count >= 32 && signature.suffix(32).elementsEqual(magicSuffix)
    }

    /// Unwraps an ERC-6492 signature; `nil` if it lacks the suffix or its ABI payload is malformed.
    public init?(wrapped signature: some Collection<UInt8>) {
        guard Self.isWrapped(signature) else { return nil }
        let payload = Array(signature.dropLast(32))
        guard let values = try? ABI.decode([.address, .bytes, .bytes], from: payload),
            case let .address(factory) = values[0], case let .bytes(calldata) = values[1], case let .bytes(inner) = values[2]
        else { return nil }
        self.init(factory: factory, factoryCalldata: calldata, innerSignature: inner)
    }

    /// The wrapped encoding.
    public var wrappedBytes: [UInt8] {
        // Encoding (address, bytes, bytes) cannot fail.
        (try! ABI.encode([.address(factory), .bytes(factoryCalldata), .bytes(innerSignature)], as: [.address, .bytes, .bytes]))
            + Self.magicSuffix
    }

    /// Whether deployment data is present (non-zero factory).
    public var hasDeploymentData: Bool { factory != .zero }
}
