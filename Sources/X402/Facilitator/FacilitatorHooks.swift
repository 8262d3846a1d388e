/// What a before-hook decides about a request.
public enum FacilitatorHookDecision: Sendable, Equatable {
    /// Go on to the scheme.
    case proceed
    /// Answer `isValid:false` / `success:false` with this reason without asking the scheme.
    case abort(ErrorReason, message: String? = nil)
}

/// Optional callbacks around `/verify` and `/settle`, run in the order they were added.
///
/// Before-hooks may abort a request with a reason (the first abort wins); after-hooks observe the
/// result (a catalog, a journal, metrics). Hooks do not run for requests the engine rejects
/// before dispatch (unknown version, scheme or network).
public struct FacilitatorHooks: Sendable {
    public typealias Before = @Sendable (FacilitatorRequest) async -> FacilitatorHookDecision
    public typealias AfterVerify = @Sendable (FacilitatorRequest, VerifyResponse) async -> Void
    public typealias AfterSettle = @Sendable (FacilitatorRequest, SettleResponse) async -> Void

    public private(set) var beforeVerify: [Before] = []
    public private(set) var afterVerify: [AfterVerify] = []
    public private(set) var beforeSettle: [Before] = []
    public private(set) var afterSettle: [AfterSettle] = []

    public init() {}

    public mutating func onBeforeVerify(_ hook: @escaping Before) { beforeVerify.append(hook) }
    public mutating func onAfterVerify(_ hook: @escaping AfterVerify) { afterVerify.append(hook) }
    public mutating func onBeforeSettle(_ hook: @escaping Before) { beforeSettle.append(hook) }
    public mutating func onAfterSettle(_ hook: @escaping AfterSettle) { afterSettle.append(hook) }

    /// The first abort among `hooks`, or `.proceed`.
    static func decide(_ hooks: [Before], _ request: FacilitatorRequest) async -> FacilitatorHookDecision {
        for hook in hooks {
            let decision = await hook(request)
            if case .abort = decision { return decision }
        }
        return .proceed
    }
}
