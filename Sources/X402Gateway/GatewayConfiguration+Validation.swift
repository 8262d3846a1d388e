import Foundation
public import X402

extension GatewayConfiguration {
    /// The upstream URL, checked.
    public func upstreamURL() throws(GatewayConfigurationError) -> UpstreamURL {
        guard let upstream else { throw .missing("upstream") }
        return try UpstreamURL(upstream)
    }

    /// Checks everything that can be checked without the network; throws the first problem.
    public func validate() throws(GatewayConfigurationError) {
        _ = try upstreamURL()
        guard let facilitator, !facilitator.isEmpty else { throw .missing("facilitator") }
        guard let url = URL(string: facilitator), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
            throw .invalidURL("facilitator", facilitator)
        }
        guard (0...65535).contains(port) else { throw .invalidValue("port", "\(port) is not a port number") }
        guard upstreamTimeoutSeconds > 0 else { throw .invalidValue("upstreamTimeoutSeconds", "must be positive") }
        _ = try stateLocation()
        _ = try trustedProxyRanges()
        guard !routes.isEmpty else { throw .missing("routes (at least one paid route, e.g. 'GET /api/*=$0.01')") }
        try validateOfferReceipts()
        _ = try routeTable()
    }

    /// ``trustedProxies``, parsed.
    public func trustedProxyRanges() throws(GatewayConfigurationError) -> [IPAddressRange] {
        var ranges: [IPAddressRange] = []
        for text in trustedProxies { ranges.append(try IPAddressRange(text)) }
        return ranges
    }

    /// ``state``, parsed (see `StoreLocation` for the accepted forms).
    /// - Returns: Where payment state is kept.
    /// - Throws: ``GatewayConfigurationError/invalidValue(_:_:)`` for `state` when it is not a location.
    public func stateLocation() throws(GatewayConfigurationError) -> StoreLocation {
        do {
            return try StoreLocation(parsing: state)
        } catch {
            throw .invalidValue("state", error.description)
        }
    }

    /// The routes as the resource server's table.
    public func routeTable() throws(GatewayConfigurationError) -> RouteTable {
        var table = RouteTable()
        for route in routes {
            guard let routeNetwork = route.network ?? network else {
                throw .invalidRoute(route.route, "no network (set network or the route's network)")
            }
            guard let recipient = route.payTo ?? payTo, !recipient.isEmpty else {
                throw .invalidRoute(route.route, "no recipient (set payTo or the route's payTo)")
            }
            if routeNetwork.isEVM, !Self.isEVMAddress(recipient) {
                throw .invalidRoute(route.route, "payTo \(recipient) is not an EVM address")
            }
            if routeNetwork.isSolana, !Self.isSolanaAddress(recipient) {
                throw .invalidRoute(route.route, "payTo \(recipient) is not a Solana address (base58, 32 bytes)")
            }
            let price: PriceSpec
            if let asset = route.asset {
                guard let amount = UInt256(decimal: route.price), amount > .zero else {
                    throw .invalidRoute(route.route, "a route with an asset is priced in atomic units (e.g. 10000), got \(route.price)")
                }
                price = .price(.tokenAmount(amount: amount, asset: asset, extra: route.extra))
            } else {
                do {
                    price = .price(try .dollars(route.price))
                } catch {
                    throw .invalidRoute(route.route, "invalid price \(route.price): \(error)")
                }
            }
            var option = PaymentOption.exact(price, on: routeNetwork, payTo: .fixed(recipient))
            if route.asset == nil { option.extra = route.extra }
            var paid = PaidRoute(
                accepts: [option], description: route.description ?? "", mimeType: route.mimeType ?? "",
                settlement: route.settleBefore == true ? .beforeHandler : .afterHandler, bazaar: try route.bazaar?.declaration(route: route.route))
            if let offerReceipt = route.offerReceipt { paid = paid.signingOffersAndReceipts(offerReceipt.options) }
            do {
                _ = try RoutePattern(route.route)
            } catch {
                throw .invalidRoute(route.route, "\(error)")
            }
            table.add(route.route, paid)
        }
        return table
    }

    /// Base58 text that decodes to 32 bytes (a Solana public key).
    static func isSolanaAddress(_ text: String) -> Bool {
        (try? Base58.decode(text, length: 32)) != nil
    }

    static func isEVMAddress(_ text: String) -> Bool {
        let hex = text.utf8
        guard hex.count == 42, text.hasPrefix("0x") || text.hasPrefix("0X") else { return false }
        return hex.dropFirst(2).allSatisfy { (48...57).contains($0) || (65...70).contains($0) || (97...102).contains($0) }
    }
}
