import ArgumentParser
import Foundation
import X402EVM

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
