import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import X402

/// `x402 discover [QUERY]`: lists the resources a facilitator's bazaar catalog knows.
struct DiscoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discover",
        abstract: "List paid resources from a facilitator's discovery catalog (bazaar).",
        discussion: """
            With QUERY, asks GET /discovery/search?query=QUERY; without, GET /discovery/resources. \
            Prints one row per resource: number, cheapest price, network, resource, description. \
            Everything in the catalog comes from sellers and is untrusted: text is cut and control \
            characters are escaped, amounts are parsed, never evaluated.

            Quote a listed resource with `x402 quote --discovered RESOURCE --facilitator URL`, which \
            builds the request from the catalog's example input.

            Exit codes: 0 listed (possibly nothing); 5 network error; 6 HTTP error or unreadable \
            answer; 64 usage error.
            """)

    @Argument(help: "Words to search for (all must match).")
    var query: String?

    @Option(name: .long, help: "The facilitator's base URL (default $X402_FACILITATOR_URL, else https://x402.org/facilitator).")
    var facilitator: String?

    @Option(name: .long, help: "Only resources with an option costing at most this many dollars, e.g. 0.05.")
    var maxPrice: String?

    @Option(name: .long, help: "Only resources payable on this network (CAIP-2, e.g. eip155:8453).")
    var network: String?

    @Option(name: .long, help: "Only resources of this type (http or mcp).")
    var type: String?

    @Option(name: .long, help: "The most resources to ask for (1-100, default 20).")
    var limit: Int = 20

    @Option(name: .long, help: "Seconds to wait for the answer (default 30).")
    var timeout: Int = 30

    @Flag(name: .long, help: "Print one JSON object on stdout.")
    var json = false

    func validate() throws {
        guard (1...100).contains(limit) else { throw ValidationError("--limit must be from 1 to 100") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if let maxPrice, (try? DollarAmount(maxPrice.hasPrefix("$") ? String(maxPrice.dropFirst()) : maxPrice)) == nil {
            throw ValidationError("--max-price must be a dollar amount such as 0.05, got \(maxPrice)")
        }
        if let query, query.utf8.count > DiscoveryFilter.maximumQueryBytes {
            throw ValidationError("the query must be at most \(DiscoveryFilter.maximumQueryBytes) bytes")
        }
        _ = try CatalogClient(facilitator: facilitator, timeout: timeout)
    }

    func run() async throws {
        let client = try CatalogClient(facilitator: facilitator, timeout: timeout)
        let items: [DiscoveryResource]
        do {
            items = try await client.list(query: query, network: network, type: type, limit: limit)
        } catch let failure as CatalogClient.Failure {
            if json {
                BuyerOutput.printJSON([
                    "status": .string(failure.exit == .network ? "network_error" : "http_error"), "error": .string(failure.message),
                    "exitCode": .number(JSONNumber(Int(failure.exit.rawValue))),
                ])
            }
            BuyerOutput.warn(peer(failure.message))
            throw failure.exit.code
        }
        let cap = maxPrice.flatMap { try? DollarAmount($0.hasPrefix("$") ? String($0.dropFirst()) : $0) }
        let rows = items.map(CatalogRow.init).filter { row in
            guard let cap else { return true }
            guard let price = row.cheapest?.value else { return false }
            return price <= cap
        }
        if json {
            BuyerOutput.printJSON([
                "status": "ok", "facilitator": .string(client.base), "query": query.map(JSONValue.string) ?? .null,
                "resources": .array(rows.enumerated().map { .object($1.json(number: $0 + 1)) }),
            ])
            return
        }
        if rows.isEmpty {
            print("no resources found at \(peer(client.base))")
            return
        }
        print(CatalogRow.table(rows))
    }
}

/// One catalog entry as `x402 discover` shows it, every field bounded and parsed.
struct CatalogRow {
    /// One offered price.
    struct Price {
        let network: String
        let atomic: UInt256
        let asset: String
        let known: Asset?
        var value: DollarAmount? { known.map { DollarAmount(atomic: atomic, decimals: $0.decimals) } }
        var human: String {
            if let value { return "\(value)" }
            return "\(atomic.decimalString) of \(TerminalText.escape(asset, limit: 16))"
        }
    }

    let resource: String
    let type: String
    let description: String
    let method: String?
    let prices: [Price]

    init(_ item: DiscoveryResource) {
        resource = item.resource
        type = item.type
        description = item.description ?? item.metadata?["description"]?.stringValue ?? ""
        method = item.metadata?["input"]?["method"]?.stringValue ?? item.metadata?["input"]?["toolName"]?.stringValue
        prices = item.accepts.prefix(16).compactMap { offer in
            guard let requirements = offer.normalized, requirements.amount.utf8.count <= 80, let atomic = UInt256(decimal: requirements.amount) else {
                return nil
            }
            return Price(
                network: requirements.network.identifier, atomic: atomic, asset: requirements.asset,
                known: AssetRegistry.standard.asset(address: requirements.asset, on: requirements.network))
        }
    }

    /// The cheapest option with a dollar value, else the first.
    var cheapest: Price? {
        prices.filter { $0.value != nil }.min { ($0.value ?? .zero) < ($1.value ?? .zero) } ?? prices.first
    }

    func json(number: Int) -> JSONObject {
        var o: JSONObject = [
            "number": .number(JSONNumber(number)), "resource": .string(resource), "type": .string(type),
            "description": .string(description), "method": method.map(JSONValue.string) ?? .null,
        ]
        o["options"] = .array(
            prices.map { price in
                [
                    "network": .string(price.network), "asset": .string(price.asset), "amount": .string(price.atomic.decimalString),
                    "usd": price.value.map { .string($0.decimalString) } ?? .null,
                ]
            })
        return o
    }

    /// The rows as an aligned table (columns cut to fit; peer text escaped).
    static func table(_ rows: [CatalogRow]) -> String {
        let header = ["#", "PRICE", "NETWORK", "RESOURCE", "DESCRIPTION"]
        let cells = rows.enumerated().map { number, row -> [String] in
            let price = row.cheapest
            let method = row.method.map { TerminalText.escape($0, limit: 16) + " " } ?? ""
            return [
                "\(number + 1)", price?.human ?? "?", TerminalText.escape(price?.network ?? "?", limit: 24),
                method + TerminalText.escape(row.resource, limit: 72), TerminalText.escape(row.description, limit: 60),
            ]
        }
        var widths = header.map(\.count)
        for line in cells {
            for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        func format(_ line: [String]) -> String {
            line.enumerated().map { i, cell in i == line.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        return ([format(header)] + cells.map(format)).joined(separator: "\n")
    }
}

/// Reads a facilitator's discovery catalog with bounded answers.
struct CatalogClient {
    /// The largest answer read (the reference clients' bazaar limit).
    static let maximumAnswerBytes = 4 * 1024 * 1024
    /// The most entries kept from one answer.
    static let maximumItems = 100

    struct Failure: Error {
        let exit: BuyerExit
        let message: String
    }

    let base: String
    let timeout: Int

    init(facilitator: String?, timeout: Int) throws {
        let text = facilitator ?? ProcessInfo.processInfo.environment["X402_FACILITATOR_URL"] ?? "https://x402.org/facilitator"
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
            components.host?.isEmpty == false, components.query == nil
        else { throw ValidationError("--facilitator must be an http(s) URL, got \(text)") }
        var base = text
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
        self.timeout = timeout
    }

    /// The catalog's entries: a search when `query` has words, else the first page of the list.
    func list(query: String?, network: String?, type: String?, limit: Int) async throws -> [DiscoveryResource] {
        var parameters: [(String, String)] = [("limit", String(limit))]
        if let network { parameters.append(("network", network)) }
        if let type { parameters.append(("type", type)) }
        let words = query?.trimmingCharacters(in: .whitespaces) ?? ""
        let path: String
        if words.isEmpty {
            path = "/discovery/resources"
        } else {
            path = "/discovery/search"
            parameters.insert(("query", words), at: 0)
        }
        var components = URLComponents()
        components.queryItems = parameters.map { URLQueryItem(name: $0.0, value: $0.1) }
        // `+` is a space in some query parsers; encode it so a word keeps it.
        let encoded = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        let body = try await get(base + path + "?" + encoded)
        let value: JSONValue
        do {
            value = try JSONValue(parsing: body)
        } catch {
            throw Failure(exit: .httpError, message: "the facilitator's catalog answer is not JSON")
        }
        do {
            let items = words.isEmpty ? try DiscoveryResponse(json: value).items : try DiscoverySearchResponse(json: value).resources
            return Array(items.prefix(Self.maximumItems))
        } catch {
            throw Failure(exit: .httpError, message: "unreadable catalog answer: \(error)")
        }
    }

    /// The catalog entry whose `resource` is exactly `resource` (searched for by its URL).
    func entry(for resource: String) async throws -> DiscoveryResource? {
        let items = try await list(
            query: resource.utf8.count <= DiscoveryFilter.maximumQueryBytes ? resource : nil, network: nil, type: nil, limit: 100)
        return items.first { $0.resource == resource }
    }

    private func get(_ url: String) async throws -> [UInt8] {
        do {
            return try await withCLIHTTPClient(timeout: timeout) { http in
                var request = HTTPClientRequest(url: url)
                request.method = .GET
                request.headers.add(name: "Accept", value: "application/json")
                let response = try await http.execute(request, timeout: .seconds(Int64(timeout)))
                guard response.status == .ok else {
                    throw Failure(exit: .httpError, message: "the facilitator answered \(response.status.code) to \(url)")
                }
                var buffer = ByteBuffer()
                for try await var chunk in response.body {
                    guard buffer.readableBytes + chunk.readableBytes <= Self.maximumAnswerBytes else {
                        throw Failure(exit: .httpError, message: "the catalog answer is larger than \(Self.maximumAnswerBytes) bytes")
                    }
                    buffer.writeBuffer(&chunk)
                }
                return Array(buffer.readableBytesView)
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(exit: .network, message: "cannot reach the facilitator at \(base): \(error)")
        }
    }
}

/// The request a catalog entry's example input describes: its method, its URL with the example
/// path parameters in the route template and the example query parameters, and its example body.
struct CatalogRequest: Equatable {
    var url: String
    var method: String
    var body: String?
    var contentType: String?

    /// Builds the request from `entry`'s `metadata.input` (`http` entries only).
    ///
    /// - Throws: ``BuyerError`` when the entry is not an http(s) resource, names a method other
    ///   than GET/HEAD/DELETE/POST/PUT/PATCH, or leaves a template parameter without a value.
    static func build(_ entry: DiscoveryResource) throws -> CatalogRequest {
        guard entry.type == "http" else { throw BuyerError("\(peer(entry.resource)) is a \(peer(entry.type)) resource, not an HTTP one") }
        let input = entry.metadata?["input"]?.objectValue ?? [:]
        let method = (input["method"]?.stringValue ?? "GET").uppercased()
        guard (Bazaar.queryMethods + Bazaar.bodyMethods).contains(method) else {
            throw BuyerError("the catalog names an unknown method \(peer(method))")
        }
        guard var components = URLComponents(string: entry.resource), let scheme = components.scheme?.lowercased(),
            ["http", "https"].contains(scheme), components.host?.isEmpty == false
        else { throw BuyerError("the catalog's resource is not an http(s) URL: \(peer(entry.resource))") }
        func text(_ value: JSONValue) -> String { value.stringValue ?? value.serializedString() }
        // Path parameters: each `:name` segment of the template gets its example value, encoded as one segment.
        let pathParams = input["pathParams"]?.objectValue ?? [:]
        var segmentAllowed = CharacterSet.urlPathAllowed
        segmentAllowed.remove(charactersIn: "/;?#")
        let segments = try components.percentEncodedPath.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
            guard segment.hasPrefix(":") else { return String(segment) }
            let name = String(segment.dropFirst())
            guard let value = pathParams[name].map(text), !value.isEmpty else {
                throw BuyerError("the catalog gives no value for the path parameter \(peer(name)) of \(peer(entry.resource))")
            }
            return value.addingPercentEncoding(withAllowedCharacters: segmentAllowed) ?? ""
        }
        components.percentEncodedPath = segments.joined(separator: "/")
        if let query = input["queryParams"]?.objectValue, !query.isEmpty {
            components.queryItems = (components.queryItems ?? []) + query.prefix(64).map { URLQueryItem(name: $0.key, value: text($0.value)) }
            components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        }
        guard let url = components.string else { throw BuyerError("cannot build a URL for \(peer(entry.resource))") }
        var request = CatalogRequest(url: url, method: method)
        if Bazaar.bodyMethods.contains(method), let body = input["body"] {
            switch input["bodyType"]?.stringValue {
            case "text":
                request.body = text(body)
                request.contentType = "text/plain"
            case "form-data":
                var form = URLComponents()
                form.queryItems = (body.objectValue ?? [:]).prefix(64).map { URLQueryItem(name: $0.key, value: text($0.value)) }
                request.body = form.percentEncodedQuery ?? ""
                request.contentType = "application/x-www-form-urlencoded"
            default:
                request.body = body.serializedString()
                request.contentType = "application/json"
            }
        }
        return request
    }
}
