// A minimal paying client: fetches a URL, pays a 402 once (at most $0.10), prints one JSON line.
//
//   X402_DEV_TARGETS=1 X402_BUYER_KEY=0x… swift run example-buyer http://127.0.0.1:8080/weather
//   X402_DEV_TARGETS=1 swift run example-buyer --key-file buyer.key [--v1] http://127.0.0.1:8080/weather
//
// The key comes from the environment variable named by --key-env (default X402_BUYER_KEY) or from
// --key-file, never from the command line. `--v1` signs only x402 protocol version 1 payments.
// Solana offers are paid with `--svm-key-file PATH` (a base58 or JSON byte-array keypair) through the
// node `--svm-rpc-url URL` (default $X402_SVM_RPC_URL).
import AsyncHTTPClient
import Foundation
import HTTPTypes
import X402
import X402EVM
import X402HTTP
import X402Solana
import X402SolanaRPC

var args = Array(CommandLine.arguments.dropFirst())
func take(_ flag: String, from args: inout [String]) -> String? {
    guard let i = args.firstIndex(of: flag), i + 1 < args.count else { return nil }
    defer { args.removeSubrange(i...(i + 1)) }
    return args[i + 1]
}
let keyFile = take("--key-file", from: &args)
let keyEnv = take("--key-env", from: &args) ?? "X402_BUYER_KEY"
let v1Only = args.contains("--v1")
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("example-buyer: \(message)\n".utf8))
    exit(2)
}
let svmKeyFile = take("--svm-key-file", from: &args)
let svmRPC = take("--svm-rpc-url", from: &args) ?? ProcessInfo.processInfo.environment["X402_SVM_RPC_URL"]
guard let url = args.first(where: { !$0.hasPrefix("--") }) else {
    fail("usage: example-buyer [--key-env VAR | --key-file PATH] [--svm-key-file PATH --svm-rpc-url URL] [--v1] URL")
}
var schemes = SchemeRegistry<any SchemeClient>()
let versions: Set<X402Version> = v1Only ? [.v1] : [.v2, .v1]
var wallet: String?
if let svmKeyFile {
    guard let data = FileManager.default.contents(atPath: svmKeyFile), let keypair = try? SolanaKeypair(text: String(decoding: data, as: UTF8.self))
    else { fail("no valid Solana keypair in \(svmKeyFile)") }
    guard let svmRPC else { fail("--svm-key-file needs --svm-rpc-url (or X402_SVM_RPC_URL)") }
    schemes.registerExactSVM(ExactSVMClient(signer: keypair, rpc: SolanaJSONRPCClient(url: svmRPC)), versions: versions)
    wallet = keypair.publicKey.base58
}
if svmKeyFile == nil || keyFile != nil || ProcessInfo.processInfo.environment[keyEnv] != nil {
    guard let key = try? keyFile.map({ try PrivateKey(contentsOfFile: $0) }) ?? PrivateKey(environmentVariable: keyEnv) else {
        fail("no valid key in \(keyFile ?? "$" + keyEnv)")
    }
    schemes.registerExactEVM(ExactEVMClient(signer: key), versions: versions)
    wallet = key.address.checksummed
}
let payer = Payer(schemes: schemes, wallet: wallet ?? "", policy: SpendingPolicy(perPaymentCap: try DollarAmount("$0.10")))

let response: PayingClientResponse
do { response = try await PayingHTTPClient(payer: payer).execute(HTTPClientRequest(url: url)) } catch { fail("\(error)") }
var result: [String: Any] = ["status": response.status, "body": String(decoding: response.body, as: UTF8.self)]
for name in [HTTPField.Name.paymentResponse, .xPaymentResponse] {
    if let value = response.headers.firstValue(for: name) { result["paymentResponseHeader"] = [name.rawName, value] }
}
switch response.payment {
case .paid(let receipt): result["transaction"] = receipt.settlement?.transaction ?? ""
case .rejected(let rejection): result["rejected"] = rejection.description
case .pending(let pending): result["pending"] = pending.description
case .notRequired, .signedIn: break
}
let line = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys, .withoutEscapingSlashes])
print(String(decoding: line, as: UTF8.self))
