#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
public import Darwin
#endif

/// Points in a settlement where a test can make the process die (debug builds only).
///
/// Set `X402_TEST_CRASH_AT` to a point's raw value and the process kills itself with `SIGKILL`
/// the first time a settlement reaches it, so the crash-recovery tests can stop a real
/// facilitator between the journal writes and the broadcast. Release builds compile the check
/// out entirely; debug builds ignore it unless the variable is set.
public enum SettlementCrashPoint: String, Sendable, CaseIterable {
    /// The pending record (signed bytes and hash) is written; nothing is broadcast yet.
    case beforeBroadcast = "before-broadcast"
    /// The node accepted the transaction; its receipt is not recorded yet.
    case afterBroadcast = "after-broadcast"
    /// The final outcome is recorded; the answer is not sent yet.
    case afterRecord = "after-record"

    /// Dies here if the environment asks for it (debug builds only).
    public func reach() {
        #if DEBUG
        guard let value = getenv("X402_TEST_CRASH_AT"), String(cString: value) == rawValue else { return }
        kill(getpid(), SIGKILL)
        #endif
    }
}
