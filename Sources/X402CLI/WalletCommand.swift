import ArgumentParser
import Foundation
import X402
import X402EVM
import X402EVMRPC
import X402Solana
import X402SolanaRPC

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `x402 wallet new|address|balance`.
struct WalletCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wallet",
        abstract: "Create a wallet key file, print its address, read its balances.",
        subcommands: [New.self, Address.self, Balance.self])
}

extension WalletCommand {
    /// `x402 wallet new`
    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a new private key into a file readable only by you (mode 0600); prints the address, never the key.")

        @Option(name: .long, help: ArgumentHelp("Where to write the key (default $X402_HOME/key, i.e. ~/.x402/key).", valueName: "path"))
        var out: String?

        @Flag(name: .long, help: "Replace an existing key file (its funds are lost unless you kept a copy).")
        var force = false

        @Flag(
            name: .long,
            help: "Create a Solana keypair instead (a JSON byte array as solana-keygen writes it; default path $X402_HOME/solana-key).")
        var solana = false

        @Flag(name: .long, help: "Print one JSON object on stdout.")
        var json = false

        func run() async throws {
            if solana { return try runSolana() }
            let path = out.map(BuyerPaths.expand) ?? BuyerPaths.home + "/key"
            let key = PrivateKey.random()
            try Self.write(key, to: path, replace: force)
            if json {
                BuyerOutput.printJSON(["address": .string(key.address.checksummed), "keyFile": .string(path)])
            } else {
                print("created a new wallet \(key.address.checksummed)")
                print("key written to \(path) (mode 0600); keep a backup, it is not shown anywhere else")
            }
        }

        /// A new Solana keypair from the system's CSPRNG, written as the 64-byte JSON array.
        func runSolana() throws {
            let path = out.map(BuyerPaths.expand) ?? SolanaKeyOptions.homeFile
            var generator = SystemRandomNumberGenerator()
            let seed = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let keypair = try SolanaKeypair(seed: seed)
            let text = "[" + (seed + keypair.publicKey.bytes).map(String.init).joined(separator: ",") + "]\n"
            try Self.write(secretText: text, to: path, replace: force)
            let address = keypair.publicKey.base58
            if json {
                BuyerOutput.printJSON(["address": .string(address), "keyFile": .string(path), "family": "solana"])
            } else {
                print("created a new Solana wallet \(address)")
                print("keypair written to \(path) (mode 0600); keep a backup, it is not shown anywhere else")
            }
        }

        /// Creates the file with mode 0600 before any secret is written (O_EXCL unless replacing).
        static func write(_ key: PrivateKey, to path: String, replace: Bool) throws {
            try write(secretText: key.withUnsafeSecretBytes { Hex.encode($0) } + "\n", to: path, replace: replace)
        }

        /// Writes `text` to a new 0600 file beside `path`, then renames it into place.
        static func write(secretText text: String, to path: String, replace: Bool) throws {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            if FileManager.default.fileExists(atPath: path) && !replace {
                throw BuyerError("\(path) already exists; refusing to overwrite a key (use --force to replace it)")
            }
            // Write beside the target, then rename: the key file is never partially written.
            let temporary = path + ".tmp-\(getpid())"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            guard fd >= 0 else { throw BuyerError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
            let written = (try? handle.write(contentsOf: Data(text.utf8))) != nil
            let synced = fsync(fd)
            close(fd)
            guard written, synced == 0, rename(temporary, path) == 0 else {
                unlink(temporary)
                throw BuyerError("cannot write the key to \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// `x402 wallet address`
    struct Address: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the wallet's address.")

        @OptionGroup var keys: KeyOptions
        @OptionGroup var svmKeys: SolanaKeyOptions

        @Flag(name: .long, help: "Print the Solana keypair's address instead.")
        var solana = false

        @Flag(name: .long, help: "Print one JSON object on stdout.")
        var json = false

        func run() async throws {
            if solana {
                guard let keypair = try svmKeys.load() else {
                    throw BuyerError(
                        "no Solana keypair: pass --svm-key-file PATH or --svm-key-env NAME, or create one with `x402 wallet new --solana`")
                }
                if json {
                    BuyerOutput.printJSON(["address": .string(keypair.publicKey.base58), "family": "solana"])
                } else {
                    print(keypair.publicKey.base58)
                }
                return
            }
            let key = try keys.load()
            if json {
                BuyerOutput.printJSON(["address": .string(key.address.checksummed)])
            } else {
                print(key.address.checksummed)
            }
        }
    }

    /// `x402 wallet balance`
    struct Balance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read the wallet's USDC and ETH balances through JSON-RPC.",
            discussion: "Exit codes: 0 read; 5 the node could not be reached or answered an error; 64 usage error; 1 other error.")

        @OptionGroup var keys: KeyOptions
        @OptionGroup var svmKeys: SolanaKeyOptions

        @Option(name: .long, help: "An address to read instead of the key's.")
        var address: String?

        @Option(name: .long, help: "The network (default eip155:8453, Base; base-sepolia style names work too).")
        var network = "eip155:8453"

        @Option(name: .long, help: ArgumentHelp("The JSON-RPC URL (default $X402_RPC_URL, else the network's public endpoint).", valueName: "url"))
        var rpcURL: String?

        @Option(name: .long, help: "The token contract (default: the network's USDC).")
        var asset: String?

        @Flag(name: .long, help: "Print one JSON object on stdout.")
        var json = false

        func validate() throws {
            guard let network = Network(identifierOrLegacyName: network) else { throw ValidationError("--network: unknown network \(network)") }
            if network.isSolana {
                if let address, (try? SolanaPublicKey(base58: address)) == nil {
                    throw ValidationError("--address: not a Solana address: \(address)")
                }
                if let asset, (try? SolanaPublicKey(base58: asset)) == nil { throw ValidationError("--asset: not a Solana mint: \(asset)") }
                return
            }
            if let address, (try? EthereumAddress(address)) == nil { throw ValidationError("--address: not an EVM address: \(address)") }
        }

        func run() async throws {
            let network = Network(identifierOrLegacyName: self.network)!
            if network.isSolana { return try await runSolana(network) }
            let owner = try address.map { try EthereumAddress($0) } ?? keys.load().address
            let environment = ProcessInfo.processInfo.environment["X402_RPC_URL"].flatMap { $0.isEmpty ? nil : $0 }
            guard let url = rpcURL ?? environment ?? network.publicRPCURL else {
                throw ValidationError("no default JSON-RPC endpoint for \(network); pass --rpc-url")
            }
            let known = AssetRegistry.standard.defaultAsset(for: network)
            let tokenText = asset ?? known?.address
            let token = try tokenText.map { text -> EthereumAddress in
                do { return try EthereumAddress(text) } catch { throw ValidationError("--asset: not an EVM address: \(text)") }
            }
            let symbol = asset == nil ? known?.symbol : nil
            let decimals = asset == nil ? known?.decimals : nil
            let client = JSONRPCClient(configuration: .init(url: url, timeout: .seconds(20), maxRetries: 1))
            let eth: UInt256
            var tokenBalance: UInt256?
            do {
                eth = try await client.balance(of: owner, at: .latest)
                if let token {
                    let result = try await client.call(CallRequest(to: token, data: EIP3009Calls.balanceOf(owner)), at: .latest)
                    guard let value = try ABI.decode(["uint256"], from: result).first?.uintValue else {
                        throw BuyerError("balanceOf on \(token) returned no number")
                    }
                    tokenBalance = value
                }
            } catch let error as BuyerError {
                throw error
            } catch {
                BuyerOutput.warn("cannot read balances from \(url): \(error)")
                throw BuyerExit.network.code
            }
            let ethText = Money.format(eth, decimals: 18)
            let tokenDecimal = tokenBalance.flatMap { b in decimals.map { Money.format(b, decimals: $0) } }
            if json {
                BuyerOutput.printJSON([
                    "address": .string(owner.checksummed), "network": .string(network.identifier), "rpcUrl": .string(url),
                    "eth": ["wei": .string(eth.decimalString), "decimal": .string(ethText)],
                    "token": token.map { t in
                        .object([
                            "address": .string(t.checksummed), "symbol": symbol.map(JSONValue.string) ?? .null,
                            "amount": .string(tokenBalance?.decimalString ?? "0"), "amountDecimal": tokenDecimal.map(JSONValue.string) ?? .null,
                        ])
                    } ?? .null,
                ])
            } else {
                print("\(owner.checksummed) on \(network.humanDescription)")
                if let token, let tokenBalance {
                    let name = symbol ?? token.checksummed
                    print(
                        "  \(name): \(tokenDecimal.map { "\($0) (\(tokenBalance.decimalString) atomic units)" } ?? "\(tokenBalance.decimalString) atomic units")"
                    )
                }
                print("  ETH:  \(ethText) (\(eth.decimalString) wei)")
            }
        }

        /// SOL and the mint's token balance (its associated token account) through Solana JSON-RPC.
        func runSolana(_ network: Network) async throws {
            let owner: SolanaPublicKey
            if let address {
                owner = try SolanaPublicKey(base58: address)
            } else if let keypair = try svmKeys.load() {
                owner = keypair.publicKey
            } else {
                throw BuyerError("no Solana keypair: pass --address, --svm-key-file PATH or --svm-key-env NAME")
            }
            guard let url = rpcURL ?? svmKeys.rpcURL(for: network) else {
                throw ValidationError("no default JSON-RPC endpoint for \(network); pass --rpc-url")
            }
            let known = AssetRegistry.standard.defaultAsset(for: network)
            guard let mintText = asset ?? known?.address else { throw ValidationError("no default token on \(network); pass --asset") }
            let mint = try SolanaPublicKey(base58: mintText)
            let rpc = SolanaJSONRPCClient(configuration: .init(url: url, timeout: .seconds(20), maxRetries: 1))
            let lamports: UInt64
            var token: (amount: UInt64, decimals: UInt8)?
            let tokenAccount: SolanaPublicKey
            do {
                lamports = try await rpc.balance(of: owner.base58, commitment: .confirmed)
                let mintAccount = try await rpc.accountInfo(mint.base58, commitment: .confirmed)
                let program = mintAccount.flatMap { try? SolanaPublicKey(base58: $0.owner) } ?? .tokenProgram
                tokenAccount = ProgramDerivedAddress.associatedTokenAddress(owner: owner, mint: mint, tokenProgram: program).address
                token = try await rpc.tokenAccountBalance(tokenAccount.base58, commitment: .confirmed)
            } catch {
                BuyerOutput.warn("cannot read balances from \(url): \(error)")
                throw BuyerExit.network.code
            }
            let symbol = asset == nil ? known?.symbol : nil
            let tokenDecimal = token.map { Money.format(UInt256($0.amount), decimals: Int($0.decimals)) }
            let sol = Money.format(UInt256(lamports), decimals: 9)
            if json {
                BuyerOutput.printJSON([
                    "address": .string(owner.base58), "network": .string(network.identifier), "rpcUrl": .string(url),
                    "sol": ["lamports": .string(String(lamports)), "decimal": .string(sol)],
                    "token": [
                        "mint": .string(mint.base58), "account": .string(tokenAccount.base58), "symbol": symbol.map(JSONValue.string) ?? .null,
                        "amount": .string(token.map { String($0.amount) } ?? "0"), "amountDecimal": tokenDecimal.map(JSONValue.string) ?? .null,
                    ],
                ])
            } else {
                print("\(owner.base58) on \(network.humanDescription)")
                let name = symbol ?? mint.base58
                if let token, let tokenDecimal {
                    print("  \(name): \(tokenDecimal) (\(token.amount) atomic units, account \(tokenAccount.base58))")
                } else {
                    print("  \(name): no token account (\(tokenAccount.base58))")
                }
                print("  SOL:  \(sol) (\(lamports) lamports)")
            }
        }
    }
}
