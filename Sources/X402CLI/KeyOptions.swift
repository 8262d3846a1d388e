import ArgumentParser
import Foundation
import X402
import X402EVM
import X402Solana

/// Where the wallet's private key comes from: a file or an environment variable, never argv.
struct KeyOptions: ParsableArguments {
    /// The environment variable read when neither option is given.
    static let defaultEnvironmentVariable = "X402_PRIVATE_KEY"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A file holding the wallet's private key (64 hex digits). Default: $X402_KEY_FILE, else $X402_HOME/key when it exists.", valueName: "path"
        ))
    var keyFile: String?

    @Option(name: .long, help: ArgumentHelp("An environment variable holding the private key (default X402_PRIVATE_KEY).", valueName: "name"))
    var keyEnv: String?

    /// The environment variables that may hold the key: never passed to hook commands.
    var secretVariables: Set<String> { Set([Self.defaultEnvironmentVariable] + (keyEnv.map { [$0] } ?? [])) }

    /// Accepted only to refuse it with a clear message (the value is never echoed).
    @Option(name: [.customLong("key"), .customLong("private-key")], help: .hidden)
    var keyOnCommandLine: String?

    func validate() throws {
        if keyOnCommandLine != nil {
            throw ValidationError(
                "private keys are never accepted on the command line (they leak into shell history and process lists); use --key-file PATH or --key-env NAME"
            )
        }
        if keyFile != nil && keyEnv != nil { throw ValidationError("use either --key-file or --key-env, not both") }
    }

    /// The key, or a ``BuyerError`` saying where it was looked for.
    func load() throws -> PrivateKey {
        let environment = ProcessInfo.processInfo.environment
        if let keyFile { return try Self.read(file: keyFile) }
        if let keyEnv { return try Self.read(environment: keyEnv) }
        if let value = environment[Self.defaultEnvironmentVariable], !value.isEmpty {
            return try Self.read(environment: Self.defaultEnvironmentVariable)
        }
        if let file = environment["X402_KEY_FILE"], !file.isEmpty { return try Self.read(file: file) }
        let home = BuyerPaths.home + "/key"
        if FileManager.default.fileExists(atPath: home) { return try Self.read(file: home) }
        throw BuyerError(
            "no wallet key: pass --key-file PATH or --key-env NAME, set \(Self.defaultEnvironmentVariable), or create one with `x402 wallet new`")
    }

    /// Whether any key source was named explicitly.
    var isExplicit: Bool { keyFile != nil || keyEnv != nil }

    static func read(file path: String) throws -> PrivateKey {
        do {
            let key = try PrivateKey(contentsOfFile: path)
            warnIfShared(path)
            return key
        } catch {
            throw BuyerError("cannot use the key in \(path): \(error)")
        }
    }

    static func read(environment name: String) throws -> PrivateKey {
        do {
            return try PrivateKey(environmentVariable: name)
        } catch {
            throw BuyerError("cannot use the key in $\(name): \(error)")
        }
    }

    /// Warns (stderr) when a key file is readable by group or others.
    static func warnIfShared(_ path: String) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let mode = attributes[.posixPermissions] as? NSNumber
        else { return }
        if mode.intValue & 0o077 != 0 {
            BuyerOutput.warn("warning: key file \(path) is accessible by other users (mode \(String(mode.intValue, radix: 8))); chmod 600 it")
        }
    }
}

/// Where the wallet's Solana keypair comes from: a file or an environment variable, never argv.
///
/// The keypair is base58 of the 64 bytes (seed ‖ public key) as wallets export it, or the JSON byte
/// array `solana-keygen` writes. It pays offers on `solana:*` networks; without one only EVM offers
/// can be paid.
struct SolanaKeyOptions: ParsableArguments {
    /// The environment variable read when neither option is given.
    static let defaultEnvironmentVariable = "X402_SVM_PRIVATE_KEY"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A file holding the Solana keypair (base58 or a JSON byte array). Default: $X402_SVM_KEY_FILE, else $X402_HOME/solana-key when it exists.",
            valueName: "path"))
    var svmKeyFile: String?

    @Option(name: .long, help: ArgumentHelp("An environment variable holding the Solana keypair (default X402_SVM_PRIVATE_KEY).", valueName: "name"))
    var svmKeyEnv: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The Solana JSON-RPC URL used to build payments (default $X402_SVM_RPC_URL, else the network's public endpoint).", valueName: "url"))
    var svmRpcURL: String?

    /// The node for `network`: the flag, `$X402_SVM_RPC_URL`, else the network's public endpoint.
    func rpcURL(for network: Network) -> String? {
        if let svmRpcURL { return svmRpcURL }
        if let value = ProcessInfo.processInfo.environment["X402_SVM_RPC_URL"], !value.isEmpty { return value }
        return network.publicRPCURL
    }

    func validate() throws {
        if svmKeyFile != nil && svmKeyEnv != nil { throw ValidationError("use either --svm-key-file or --svm-key-env, not both") }
    }

    /// Whether a source was named explicitly.
    var isExplicit: Bool { svmKeyFile != nil || svmKeyEnv != nil }

    /// The default key file, `$X402_HOME/solana-key`.
    static var homeFile: String { BuyerPaths.home + "/solana-key" }

    /// The keypair, `nil` when no source exists (an explicitly named source must exist).
    func load() throws -> SolanaKeypair? {
        let environment = ProcessInfo.processInfo.environment
        if let svmKeyFile { return try Self.read(file: svmKeyFile) }
        if let svmKeyEnv { return try Self.read(environment: svmKeyEnv, value: environment[svmKeyEnv]) }
        if let value = environment[Self.defaultEnvironmentVariable], !value.isEmpty {
            return try Self.read(environment: Self.defaultEnvironmentVariable, value: value)
        }
        if let file = environment["X402_SVM_KEY_FILE"], !file.isEmpty { return try Self.read(file: file) }
        if FileManager.default.fileExists(atPath: Self.homeFile) { return try Self.read(file: Self.homeFile) }
        return nil
    }

    static func read(file path: String) throws -> SolanaKeypair {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 64 * 1024, let text = String(data: data, encoding: .utf8) else {
            throw BuyerError("cannot read the Solana keypair file \(path)")
        }
        KeyOptions.warnIfShared(path)
        do {
            return try SolanaKeypair(text: text)
        } catch {
            throw BuyerError("cannot use the Solana keypair in \(path): \(error)")
        }
    }

    static func read(environment name: String, value: String?) throws -> SolanaKeypair {
        guard let value, !value.isEmpty else { throw BuyerError("$\(name) is not set") }
        do {
            return try SolanaKeypair(text: value)
        } catch {
            throw BuyerError("cannot use the Solana keypair in $\(name): \(error)")
        }
    }
}
