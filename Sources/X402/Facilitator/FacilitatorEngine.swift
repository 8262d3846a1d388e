/// A facilitator without a transport: dispatches `/verify` and `/settle` to the scheme
/// registered for the payment's (version, scheme, network) and answers `/supported`.
///
/// Every well-formed request gets an answer, never an error: an unknown or disabled version is
/// `invalid_x402_version`, an unregistered scheme `unsupported_scheme`, and a scheme not served
/// on the payment's network `invalid_network`. Lookup uses the *requirements'* scheme and network
/// (the resource server's, never the client's `accepted`); the scheme checks that the payload
/// agrees with them.
///
/// The engine is a ``FacilitatorClient``, so a resource server can use it in process.
public struct FacilitatorEngine: FacilitatorClient {
    /// The schemes, by (version, scheme, network pattern).
    public let registry: SchemeRegistry<any SchemeFacilitator>
    /// The protocol versions served; others are answered `invalid_x402_version`.
    public let versions: Set<X402Version>
    /// Facilitator-side extension keys listed by `/supported` (e.g. `bazaar`).
    public let extensions: [String]
    public let hooks: FacilitatorHooks

    /// An engine over `registry`.
    ///
    /// `/supported` lists one kind per registration on an exact network (v1 kinds under the
    /// network's v1 name, skipped when it has none); namespace-wide registrations (`eip155:*`) serve
    /// payments but cannot be enumerated, so they add no kinds.
    public init(
        registry: SchemeRegistry<any SchemeFacilitator>, versions: Set<X402Version> = [.v2, .v1], extensions: [String] = [],
        hooks: FacilitatorHooks = FacilitatorHooks()
    ) {
        self.registry = registry
        self.versions = versions
        self.extensions = extensions
        self.hooks = hooks
    }

    /// An engine serving each scheme on the listed networks (each registered as an exact network).
    public init(
        schemes: [(facilitator: any SchemeFacilitator, networks: [Network])], versions: Set<X402Version> = [.v2, .v1],
        extensions: [String] = [], hooks: FacilitatorHooks = FacilitatorHooks()
    ) {
        var registry = SchemeRegistry<any SchemeFacilitator>()
        for (facilitator, networks) in schemes {
            for network in networks {
                registry.register(facilitator, networks: NetworkPattern(network), versions: versions)
            }
        }
        self.init(registry: registry, versions: versions, extensions: extensions, hooks: hooks)
    }

    // MARK: Dispatch

    /// Why a request cannot be dispatched to a scheme.
    struct Unroutable: Error {
        let reason: ErrorReason
        let message: String
    }

    /// The scheme implementation for a request.
    func route(_ request: FacilitatorRequest) throws(Unroutable) -> any SchemeFacilitator {
        let version = request.x402Version
        guard versions.contains(version) else {
            throw Unroutable(reason: .invalidX402Version, message: "x402 version \(version.rawValue) is not enabled on this facilitator")
        }
        let requirements = request.paymentRequirements
        let scheme = requirements.scheme
        guard registry.registrations.contains(where: { $0.version == version && $0.scheme == scheme }) else {
            throw Unroutable(reason: .unsupportedScheme, message: "scheme \"\(scheme)\" is not supported for x402 version \(version.rawValue)")
        }
        let network: Network?
        switch requirements {
        case .v1(let r): network = Network(identifierOrLegacyName: r.network)
        case .v2(let r): network = r.network
        }
        guard let network else {
            throw Unroutable(reason: .invalidNetwork, message: "unknown network \"\(requirements.networkIdentifier)\"")
        }
        guard let implementation = registry.implementation(version: version, scheme: scheme, network: network) else {
            throw Unroutable(
                reason: .invalidNetwork,
                message: "scheme \"\(scheme)\" is not served on network \"\(requirements.networkIdentifier)\" for x402 version \(version.rawValue)")
        }
        return implementation
    }

    // MARK: FacilitatorClient

    /// Verifies a payment without moving funds.
    public func verify(_ request: FacilitatorRequest) async -> VerifyResponse {
        let implementation: any SchemeFacilitator
        do {
            implementation = try route(request)
        } catch {
            return .invalid(error.reason, message: error.message)
        }
        if case .abort(let reason, let message) = await FacilitatorHooks.decide(hooks.beforeVerify, request) {
            return .invalid(reason, message: message ?? "verification aborted: \(reason)")
        }
        let response = await implementation.verify(request.paymentPayload, requirements: request.paymentRequirements)
        for hook in hooks.afterVerify { await hook(request, response) }
        return response
    }

    /// Verifies again, executes the payment and waits for its confirmation.
    public func settle(_ request: FacilitatorRequest) async -> SettleResponse {
        let network = request.paymentPayload.networkIdentifier
        let implementation: any SchemeFacilitator
        do {
            implementation = try route(request)
        } catch {
            return .failure(error.reason, message: error.message, network: network)
        }
        if case .abort(let reason, let message) = await FacilitatorHooks.decide(hooks.beforeSettle, request) {
            return .failure(reason, message: message ?? "settlement aborted: \(reason)", network: network)
        }
        let response = await implementation.settle(request.paymentPayload, requirements: request.paymentRequirements)
        for hook in hooks.afterSettle { await hook(request, response) }
        return response
    }

    /// Verifies a request as received (an unknown version is answered, not rejected).
    public func verify(_ incoming: IncomingFacilitatorRequest) async -> VerifyResponse {
        switch incoming {
        case .payment(let request): return await verify(request)
        case .unsupportedVersion(let version, _):
            return .invalid(.invalidX402Version, message: "x402 version \(version) is not supported")
        }
    }

    /// Settles a request as received (an unknown version is answered, not rejected).
    public func settle(_ incoming: IncomingFacilitatorRequest) async -> SettleResponse {
        switch incoming {
        case .payment(let request): return await settle(request)
        case .unsupportedVersion(let version, let network):
            return .failure(.invalidX402Version, message: "x402 version \(version) is not supported", network: network)
        }
    }

    /// The kinds, extensions and signers this facilitator serves.
    public func supported() async -> SupportedResponse {
        var kinds: [SupportedKind] = []
        var seen: Set<String> = []
        var signers: [String: [String]] = [:]
        let ordered = registry.registrations.sorted { a, b in
            if a.version != b.version { return a.version > b.version }
            if a.scheme != b.scheme { return a.scheme < b.scheme }
            return a.pattern.description < b.pattern.description
        }
        for registration in ordered where versions.contains(registration.version) {
            guard let network = registration.pattern.network else { continue }
            let implementation = registration.implementation
            // Only the registration that wins the lookup for this (version, scheme, network) speaks for it.
            guard registry.implementation(version: registration.version, scheme: registration.scheme, network: network) != nil else {
                continue
            }
            let name: String
            switch registration.version {
            case .v1:
                guard let legacy = network.legacyName else { continue }
                name = legacy
            case .v2:
                name = network.identifier
            }
            let id = "\(registration.version.rawValue)/\(registration.scheme)/\(name)"
            guard seen.insert(id).inserted else { continue }
            let extra = await implementation.supportedExtra(for: network)
            kinds.append(SupportedKind(x402Version: registration.version, scheme: registration.scheme, network: name, extra: extra))
            let family = implementation.family.description
            var list = signers[family] ?? []
            for address in implementation.signers(for: network) where !list.contains(address) { list.append(address) }
            signers[family] = list
        }
        return SupportedResponse(kinds: kinds, extensions: extensions, signers: signers)
    }
}
