import Metrics
public import Prometheus
import X402

/// The facilitator's Prometheus metrics, kept in its own registry (no global bootstrap, so several
/// services can live in one process, as tests do).
///
/// * `x402_facilitator_http_requests_total{route, status}`
/// * `x402_facilitator_verify_total{outcome="valid"|"invalid", reason}`
/// * `x402_facilitator_settle_total{outcome="success"|"failure", reason}`
/// * `x402_facilitator_verify_duration_seconds`, `x402_facilitator_settle_duration_seconds` (histograms)
/// * `x402_facilitator_settlements_in_flight` (gauge)
/// * `x402_facilitator_refusals_total{route, reason}`: every refused request, by reason: verdicts
///   (`isValid:false`, `success:false`) and requests refused before a verdict (`rate_limited`,
///   `unauthorized`, `invalid_request`)
/// * `x402_facilitator_gas_used_total{network}`: gas of the transactions the facilitator paid for
public struct FacilitatorMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        self.factory = factory
    }

    func request(route: String, status: Int) {
        Counter(label: "x402_facilitator_http_requests_total", dimensions: [("route", route), ("status", String(status))], factory: factory)
            .increment()
    }

    func verified(_ response: VerifyResponse, duration: Duration) {
        let outcome = response.isValid ? "valid" : "invalid"
        Counter(
            label: "x402_facilitator_verify_total",
            dimensions: [("outcome", outcome), ("reason", response.invalidReason?.rawValue ?? "")], factory: factory
        ).increment()
        if !response.isValid { refused(route: "verify", reason: response.invalidReason?.rawValue ?? "") }
        Timer(label: "x402_facilitator_verify_duration_seconds", dimensions: [("outcome", outcome)], factory: factory)
            .recordNanoseconds(duration.nanoseconds)
    }

    func settled(_ response: SettleResponse, duration: Duration) {
        let outcome = response.success ? "success" : "failure"
        Counter(
            label: "x402_facilitator_settle_total",
            dimensions: [("outcome", outcome), ("reason", response.errorReason?.rawValue ?? "")], factory: factory
        ).increment()
        if !response.success { refused(route: "settle", reason: response.errorReason?.rawValue ?? "") }
        Timer(label: "x402_facilitator_settle_duration_seconds", dimensions: [("outcome", outcome)], factory: factory)
            .recordNanoseconds(duration.nanoseconds)
    }

    func refused(route: String, reason: String) {
        Counter(label: "x402_facilitator_refusals_total", dimensions: [("route", route), ("reason", reason)], factory: factory)
            .increment()
    }

    /// Counts gas the facilitator paid for (deployments and transfers, mined).
    public func gasUsed(network: String, gas: UInt64) {
        Counter(label: "x402_facilitator_gas_used_total", dimensions: [("network", network)], factory: factory)
            .increment(by: Int64(clamping: gas))
    }

    func settlementsInFlight(_ count: Int) {
        Gauge(label: "x402_facilitator_settlements_in_flight", factory: factory).record(count)
    }

    /// `x402_facilitator_settlements_pending` (broadcast, not yet confirmed) and
    /// `x402_facilitator_settlement_pending_oldest_seconds` (age of the oldest), from the resume pass.
    func pendingSettlements(_ count: Int, oldestAgeSeconds: Double) {
        Gauge(label: "x402_facilitator_settlements_pending", factory: factory).record(count)
        Gauge(label: "x402_facilitator_settlement_pending_oldest_seconds", factory: factory).record(max(0, oldestAgeSeconds))
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
