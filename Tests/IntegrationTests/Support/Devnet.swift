// The local devnet (Tools/devnet) as seen by integration tests.
//
// Usage:
//
//     @Suite(.devnet) struct MyDevnetTests {
//         @Test func pays() async throws {
//             let devnet = try await Devnet.shared()          // fails with a clear message in CI if not running
//             let payer = try await devnet.freshAccount(usdc: 5_000_000)   // own key: no nonce contention
//             let payee = devnet.randomAddress()
//             let receipt = try await devnet.transact(from: payer, to: devnet.token,
//                                                     data: ABI.encodeCall("transfer(address,uint256)", [.address(payee), .uint(1)]))
//             #expect(try await devnet.usdcBalance(of: payee) == 1)
//         }
//     }
//
// Environment:
//   X402_DEVNET_URL    the node (default: `rpcUrl` of the state file, else http://127.0.0.1:8545)
//   X402_DEVNET_STATE  accounts JSON written by Tools/devnet/start.sh (default <repo>/.devnet-run/devnet.json);
//                      when unset the accounts come from the node itself (`devnet_accounts`)
//   CI                 when set (CI=true), an unreachable devnet FAILS the tests instead of skipping them
//
// Every suite in the process (and other processes) shares one chain, and tests run in parallel: send
// transactions only from `freshAccount(...)` keys. The shared dev accounts (`facilitator`, `payers`,
// `payees`) are for reads and signatures (EIP-3009 authorizations), not for sending transactions.

import AsyncHTTPClient
import Foundation
import Testing
import X402
import X402EVM
import X402EVMRPC
import X402TestSupport

/// A funded account on the devnet.
struct DevnetAccount: Sendable, CustomStringConvertible {
    /// `facilitator`, `payer`, `payee`, `minter` or `fresh`.
    let role: String
    let key: PrivateKey
    var address: EthereumAddress { key.address }
    var description: String { "\(role) \(address)" }
}

/// Why the devnet cannot be used.
struct DevnetUnavailable: Error, CustomStringConvertible {
    let description: String
}

/// A helper failure (timeout waiting for a receipt, a reverted funding transaction, …).
struct DevnetError: Error, CustomStringConvertible {
    let description: String
}

/// The running devnet: RPC client, chain parameters, funded accounts and helpers.
struct Devnet: Sendable {
    /// The node URL in use.
    let url: String
    /// A client with short timeouts, for tests.
    let client: JSONRPCClient
    /// 84532.
    let chainID: UInt64
    /// CAIP-2 network id, `eip155:84532`.
    let network: String
    /// The test USDC (EIP-3009, domain name "USDC", version "2", 6 decimals).
    let token: EthereumAddress
    let multicall3: EthereumAddress
    /// Account 0 (10 000 ETH, no USDC). Shared: do not send transactions from it in tests.
    let facilitator: DevnetAccount
    /// Accounts 1–7 (10 000 ETH, 1 000 000 USDC each at genesis). Shared: sign with them, don't send from them.
    let payers: [DevnetAccount]
    /// Accounts 8–9 (10 000 ETH, no USDC at genesis).
    let payees: [DevnetAccount]

    var payer: DevnetAccount { payers[0] }
    var payee: DevnetAccount { payees[0] }

    /// The default ETH given to a fresh account: 1 ETH (a transfer costs about 0.00000005 ETH here).
    static let defaultETH = UInt256(1_000_000_000_000_000_000 as UInt64)

    // MARK: Finding the devnet

    /// The devnet, loaded once per process. Throws ``DevnetUnavailable`` with instructions when it is not running.
    static func shared() async throws(DevnetUnavailable) -> Devnet {
        try await loading.value.get()
    }

    /// Whether integration tests should run: the devnet answers, or `CI` is set (then they fail loudly).
    static func shouldRun() async -> Bool {
        if isCI { return true }
        return (try? await shared()) != nil
    }

    /// `true` when the `CI` environment variable is set to anything but `false`/`0`/empty.
    static var isCI: Bool { TestEnvironment.isCI }

    /// The URL tried: `X402_DEVNET_URL`, else the state file's `rpcUrl`, else `http://127.0.0.1:8545`.
    static var configuredURL: String {
        if let url = ProcessInfo.processInfo.environment["X402_DEVNET_URL"], !url.isEmpty { return url }
        if let state = try? readStateFile(at: defaultStatePath), let url = state["rpcUrl"]?.stringValue { return url }
        return "http://127.0.0.1:8545"
    }

    static var unavailableMessage: String {
        "devnet not running at \(configuredURL) — start it with Tools/devnet/start.sh (see Tests/IntegrationTests/README.md)"
    }

    /// `<repo>/.devnet-run/devnet.json`.
    static var defaultStatePath: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }  // Support, IntegrationTests, Tests, <repo>
        return url.appendingPathComponent(".devnet-run/devnet.json").path
    }

    private static let loading = Task<Result<Devnet, DevnetUnavailable>, Never> {
        do {
            return .success(try await load())
        } catch let error as DevnetUnavailable {
            return .failure(error)
        } catch {
            return .failure(DevnetUnavailable(description: "\(unavailableMessage) (\(error))"))
        }
    }

    private static func load() async throws -> Devnet {
        let url = configuredURL
        let probe = JSONRPCClient(configuration: .init(url: url, timeout: .seconds(3), maxRetries: 0))
        do {
            _ = try await probe.chainID()
        } catch {
            throw DevnetUnavailable(description: "\(unavailableMessage) (\(error))")
        }
        let accounts: JSONValue
        if let path = ProcessInfo.processInfo.environment["X402_DEVNET_STATE"], !path.isEmpty {
            accounts = try readStateFile(at: path)
        } else if let fromNode = try? await probe.request(method: "devnet_accounts"), fromNode.objectValue != nil {
            accounts = fromNode
        } else {
            accounts = try readStateFile(at: defaultStatePath)
        }
        let client = JSONRPCClient(configuration: .init(url: url, timeout: .seconds(20), maxRetries: 2, backoffBase: .milliseconds(50)))
        return try Devnet(url: url, client: client, accounts: accounts)
    }

    private static func readStateFile(at path: String) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DevnetUnavailable(description: "devnet accounts file \(path) not found — start the devnet with Tools/devnet/start.sh")
        }
        return try JSONValue(parsing: [UInt8](data))
    }

    private init(url: String, client: JSONRPCClient, accounts json: JSONValue) throws {
        func field(_ value: JSONValue?, _ name: String) throws -> JSONValue {
            guard let value else { throw DevnetUnavailable(description: "devnet accounts JSON lacks \(name)") }
            return value
        }
        func account(_ value: JSONValue) throws -> DevnetAccount {
            let role = try field(value["role"], "role").stringValue ?? "?"
            let key = try PrivateKey(hex: try field(value["privateKey"], "privateKey").stringValue ?? "")
            return DevnetAccount(role: role, key: key)
        }
        self.url = url
        self.client = client
        guard let chainID = try field(json["chainId"], "chainId").numberValue?.uint64Value else {
            throw DevnetUnavailable(description: "devnet accounts JSON: chainId is not a number")
        }
        self.chainID = chainID
        self.network = json["network"]?.stringValue ?? "eip155:\(chainID)"
        self.token = try EthereumAddress(try field(json["token"]?["address"], "token.address").stringValue ?? "")
        self.multicall3 = try EthereumAddress(try field(json["multicall3"], "multicall3").stringValue ?? "")
        let all = try (try field(json["accounts"], "accounts").arrayValue ?? []).map(account)
        guard let facilitator = all.first(where: { $0.role == "facilitator" }) else {
            throw DevnetUnavailable(description: "devnet accounts JSON has no facilitator")
        }
        self.facilitator = facilitator
        self.payers = all.filter { $0.role == "payer" }
        self.payees = all.filter { $0.role == "payee" }
        guard !payers.isEmpty, !payees.isEmpty else {
            throw DevnetUnavailable(description: "devnet accounts JSON has no payer or payee")
        }
    }

    // MARK: Fresh accounts and funding

    /// A new random key, funded with `eth` wei (`devnet_setBalance`) and `usdc` atomic units (`devnet_mint`).
    /// Returns once both are visible in the latest block.
    func freshAccount(eth: UInt256 = Devnet.defaultETH, usdc: UInt256 = .zero) async throws -> DevnetAccount {
        let account = DevnetAccount(role: "fresh", key: .random())
        @Sendable func fundETH() async throws {
            if !eth.isZero { try await setETHBalance(of: account.address, to: eth) }
        }
        async let funded: Void = fundETH()
        if !usdc.isZero { try await mintUSDC(to: account.address, amount: usdc) }
        try await funded
        return account
    }

    /// A random address with no key (a payee that only receives).
    func randomAddress() -> EthereumAddress {
        PrivateKey.random().address
    }

    /// Sets an address's ETH balance (`devnet_setBalance`) and waits until the latest block shows it.
    func setETHBalance(of address: EthereumAddress, to wei: UInt256) async throws {
        _ = try await client.request(method: "devnet_setBalance", params: [EthereumJSON.address(address), EthereumJSON.quantity(wei)])
        try await waitUntil("ETH balance of \(address) to become \(wei)") {
            try await client.balance(of: address, at: .latest) == wei
        }
    }

    /// Mints test USDC to `address` (a real transaction by the token's minter) and returns its mined receipt.
    @discardableResult
    func mintUSDC(to address: EthereumAddress, amount: UInt256) async throws -> TransactionReceipt {
        let result = try await client.request(method: "devnet_mint", params: [EthereumJSON.address(address), EthereumJSON.quantity(amount)])
        let receipt = try await waitForReceipt(try EthereumJSON.bytes32(result))
        guard receipt.succeeded else { throw DevnetError(description: "devnet_mint to \(address) reverted") }
        return receipt
    }

    // MARK: Reads

    /// `balanceOf(address)` of the test USDC.
    func usdcBalance(of address: EthereumAddress, at block: BlockTag = .latest) async throws -> UInt256 {
        let data = try ABI.encodeCall("balanceOf(address)", [.address(address)])
        let result = try await client.call(CallRequest(to: token, data: data), at: block)
        guard let balance = try ABI.decode(["uint256"], from: result).first?.uintValue else {
            throw DevnetError(description: "balanceOf returned no uint256")
        }
        return balance
    }

    // MARK: Transactions

    /// Waits until the transaction is mined and returns its receipt (polling every 20 ms).
    func waitForReceipt(_ hash: Bytes32, timeout: Duration = .seconds(30)) async throws -> TransactionReceipt {
        var receipt: TransactionReceipt?
        try await waitUntil("a receipt for \(hash)", timeout: timeout) {
            receipt = try await client.transactionReceipt(hash)
            return receipt != nil
        }
        return receipt!
    }

    /// Signs an EIP-1559 transaction from `account` (pending nonce, fees from the node) and sends it.
    /// `gasLimit` defaults to the node's estimate plus 20 %.
    func send(
        from account: DevnetAccount, to: EthereumAddress, data: [UInt8] = [], value: UInt256 = .zero, gasLimit: UInt64? = nil
    ) async throws -> SignedTransaction {
        async let nonce = client.transactionCount(of: account.address, at: .pending)
        async let tip = client.maxPriorityFeePerGas()
        async let price = client.gasPrice()
        let gas: UInt64
        if let gasLimit {
            gas = gasLimit
        } else {
            let estimate = try await client.estimateGas(CallRequest(from: account.address, to: to, data: data, value: value))
            gas = estimate + estimate / 5
        }
        let priority = try await tip
        let transaction = EIP1559Transaction(
            chainId: chainID, nonce: try await nonce, maxPriorityFeePerGas: priority,
            maxFeePerGas: try await price * 2 + priority, gasLimit: gas, to: to, value: value, data: data
        )
        let signed = transaction.signed(with: account.key)
        _ = try await client.sendRawTransaction(signed.rawBytes)
        return signed
    }

    /// ``send(from:to:data:value:gasLimit:)`` and wait for the receipt (which may have failed: check `succeeded`).
    func transact(
        from account: DevnetAccount, to: EthereumAddress, data: [UInt8] = [], value: UInt256 = .zero, gasLimit: UInt64? = nil
    ) async throws -> TransactionReceipt {
        let signed = try await send(from: account, to: to, data: data, value: value, gasLimit: gasLimit)
        return try await waitForReceipt(signed.hash)
    }

    // MARK: Polling

    /// Polls `condition` every 20 ms until it holds; throws ``DevnetError`` after `timeout`.
    func waitUntil(
        _ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool
    ) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            if try await condition() { return }
            guard clock.now < deadline else { throw DevnetError(description: "timed out after \(timeout) waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test or suite when the devnet answers. When it does not: skipped locally with
    /// "devnet not running at … — start it with Tools/devnet/start.sh"; in CI (`CI` set) the test runs
    /// and fails with that message at `try await Devnet.shared()`.
    static var devnet: Self {
        .enabled(Comment(rawValue: Devnet.unavailableMessage)) { await Devnet.shouldRun() }
    }
}
