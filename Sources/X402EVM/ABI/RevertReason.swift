public import X402

/// Why a contract call reverted, decoded from its revert data.
public enum RevertReason: Sendable, Hashable, CustomStringConvertible {
    /// No revert data (`revert()` or `require(cond)` without a message, or out of gas).
    case empty
    /// `Error(string)`: `require(cond, "message")` / `revert("message")`.
    case error(String)
    /// `Panic(uint256)`: assert failures, arithmetic overflow, division by zero, …
    case panic(UInt256)
    /// A custom error. `signature` and `arguments` are set when the selector is known.
    case custom(CustomError)
    /// Data that is not a well-formed revert payload (shorter than a selector, or a malformed `Error(string)`).
    case malformed([UInt8])

    /// A custom Solidity error.
    public struct CustomError: Sendable, Hashable {
        /// The first 4 bytes of the revert data.
        public let selector: [UInt8]
        /// e.g. `ERC20InsufficientBalance(address,uint256,uint256)`, if the selector is known.
        public let signature: String?
        /// Decoded arguments, if the selector is known and they decode.
        public let arguments: [ABIValue]?
        /// The complete revert data.
        public let data: [UInt8]

        /// The error's name (the signature before `(`), if known.
        public var name: String? { signature.map { String($0.prefix { $0 != "(" }) } }
    }

    /// `0x08c379a0`, the selector of `Error(string)`.
    public static let errorSelector: [UInt8] = [0x08, 0xC3, 0x79, 0xA0]
    /// `0x4e487b71`, the selector of `Panic(uint256)`.
    public static let panicSelector: [UInt8] = [0x4E, 0x48, 0x7B, 0x71]

    /// Custom errors raised by the contracts x402 talks to (EIP-3009 tokens, Permit2, the x402 proxies, OpenZeppelin ERC-20).
    public static let knownCustomErrors: [String] = [
        "AuthorizationExpired()", "AuthorizationNotYetValid()", "AuthorizationAlreadyUsed()", "AuthorizationUsedOrCanceled()",
        "InvalidSignature()", "InvalidSignatureV()", "InvalidSignatureS()", "SignerMismatch()", "InvalidSignatureLength()",
        "InvalidAmount()", "InvalidOwner()", "InvalidDestination()", "PaymentTooEarly()", "Permit2612AmountMismatch()",
        "InvalidNonce()", "SignatureExpired(uint256)", "InvalidSigner()", "InvalidContractSignature()", "LengthMismatch()",
        "AllowanceExpired(uint256)", "InsufficientAllowance(uint256)", "ExcessiveInvalidation()",
        "ERC20InsufficientBalance(address,uint256,uint256)", "ERC20InsufficientAllowance(address,uint256,uint256)",
        "ERC20InvalidSender(address)", "ERC20InvalidReceiver(address)", "ERC20InvalidApprover(address)",
        "ERC20InvalidSpender(address)", "ERC2612ExpiredSignature(uint256)", "ERC2612InvalidSigner(address,address)",
        "ReentrancyGuardReentrantCall()",
    ]

    private static let knownBySelector: [[UInt8]: String] = {
        var table: [[UInt8]: String] = [:]
        for signature in knownCustomErrors { table[ABI.selector(signature)] = signature }
        return table
    }()

    /// Decodes revert data; `customErrors` adds signatures to recognise beyond ``knownCustomErrors``.
    public init(data: some Collection<UInt8>, customErrors: [String] = []) {
        let bytes = Array(data)
        guard !bytes.isEmpty else {
            self = .empty
            return
        }
        guard bytes.count >= 4 else {
            self = .malformed(bytes)
            return
        }
        let selector = Array(bytes[0..<4])
        let payload = bytes[4...]
        if selector == Self.errorSelector {
            if let values = try? ABI.decode([.string], from: payload), case let .string(message)? = values.first {
                self = .error(message)
            } else {
                self = .malformed(bytes)
            }
            return
        }
        if selector == Self.panicSelector {
            if let values = try? ABI.decode([.uint(256)], from: payload), case let .uint(code)? = values.first {
                self = .panic(code)
            } else {
                self = .malformed(bytes)
            }
            return
        }
        var signature = Self.knownBySelector[selector]
        for candidate in customErrors where ABI.selector(candidate) == selector {
            signature = candidate
        }
        var arguments: [ABIValue]?
        if let signature, let (_, types) = try? ABI.parseSignature(signature) {
            arguments = try? ABI.decode(types, from: payload)
        }
        self = .custom(CustomError(selector: selector, signature: signature, arguments: arguments, data: bytes))
    }

    /// Decodes revert data given as `0x` hex.
    public init(hex: String, customErrors: [String] = []) throws(HexError) {
        self.init(data: try Hex.decode(hex), customErrors: customErrors)
    }

    /// A human-readable summary, e.g. `FiatTokenV2: invalid signature`, `panic 0x11 (arithmetic overflow or underflow)`.
    public var description: String {
        switch self {
        case .empty: "execution reverted"
        case let .error(message): message
        case let .panic(code): "panic \(code.hexString) (\(Self.panicMeaning(code)))"
        case let .custom(error):
            if let signature = error.signature {
                if let arguments = error.arguments, !arguments.isEmpty {
                    "\(error.name ?? signature)(\(arguments.map(\.description).joined(separator: ", ")))"
                } else {
                    signature
                }
            } else {
                "custom error \(Hex.encode(error.selector))"
            }
        case let .malformed(bytes): "malformed revert data \(Hex.encode(bytes.prefix(68)))"
        }
    }

    /// What a Solidity panic code means.
    public static func panicMeaning(_ code: UInt256) -> String {
        switch code.asUInt64 {
        case 0x00: "generic compiler panic"
        case 0x01: "assertion failed"
        case 0x11: "arithmetic overflow or underflow"
        case 0x12: "division or modulo by zero"
        case 0x21: "invalid enum conversion"
        case 0x22: "invalid storage byte array encoding"
        case 0x31: "pop on empty array"
        case 0x32: "array index out of bounds"
        case 0x41: "out of memory"
        case 0x51: "call to zero-initialised internal function"
        default: "unknown panic code"
        }
    }
}
