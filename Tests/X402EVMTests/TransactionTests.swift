import Foundation
import Testing
import X402

@testable import X402EVM

func rlpItem(fromFixture json: Any) throws -> RLPItem {
    if let text = json as? String { return .bytes(try Hex.decode(text)) }
    let items = try #require(json as? [Any])
    return .list(try items.map { try rlpItem(fromFixture: $0) })
}

@Suite("RLP and transactions")
struct TransactionTests {
    @Test("RLP encoding matches pyrlp; decoding is its inverse")
    func rlpFixtures() throws {
        let cases = try Fixture.objects("rlp.json")
        #expect(cases.count > 50)
        for entry in cases {
            let item = try rlpItem(fromFixture: try #require(entry["input"]))
            let expected = try entry.string("encoded")
            #expect(Hex.encode(item.encoded) == expected)
            #expect(try RLPItem(decoding: Hex.decode(expected)) == item)
        }
    }

    @Test("RLP decoding rejects non-canonical and truncated input")
    func rlpStrict() {
        #expect(throws: RLPError.nonCanonical) { try RLPItem(decoding: [0x81, 0x05]) }  // single byte < 0x80 must not be prefixed
        #expect(throws: RLPError.nonCanonical) { try RLPItem(decoding: [0xB8, 0x01, 0xFF]) }  // long form for a short string
        #expect(throws: RLPError.truncated) { try RLPItem(decoding: [0x83, 0x01]) }
        #expect(throws: RLPError.trailingBytes) { try RLPItem(decoding: [0x01, 0x02]) }
        #expect(throws: RLPError.truncated) { try RLPItem(decoding: [0xC2, 0x01]) }
        #expect(throws: RLPError.truncated) { try RLPItem(decoding: [UInt8]()) }
    }

    @Test("legacy and EIP-1559 transactions: signing hash, raw bytes, hash and sender match eth-account")
    func transactionFixtures() throws {
        let cases = try Fixture.objects("transactions.json")
        #expect(cases.count > 100)
        for (index, entry) in cases.enumerated() {
            let tx = try #require(entry["tx"] as? [String: Any])
            let key = try PrivateKey(hex: entry.string("privateKey"))
            func uint(_ name: String) throws -> UInt256 {
                let text = try tx.string(name)
                return try #require(UInt256(decimal: text))
            }
            func uint64(_ name: String) throws -> UInt64 { try #require(try uint(name).asUInt64) }
            let chainId = UInt64(try #require(tx["chainId"] as? Int))
            let to = try (tx["to"] as? String).map { try EthereumAddress($0) }
            let data = try Hex.decode(tx.string("data"))
            let signed: SignedTransaction
            let signingHash: Bytes32
            if try entry.string("type") == "legacy" {
                let transaction = LegacyTransaction(
                    chainId: chainId, nonce: try uint64("nonce"), gasPrice: try uint("gasPrice"), gasLimit: try uint64("gas"),
                    to: to, value: try uint("value"), data: data
                )
                signingHash = transaction.signingHash
                signed = transaction.signed(with: key)
            } else {
                var accessList: [AccessListEntry] = []
                for entry in (tx["accessList"] as? [[String: Any]]) ?? [] {
                    accessList.append(
                        AccessListEntry(
                            address: try EthereumAddress(try entry.string("address")),
                            storageKeys: try (entry["storageKeys"] as? [String] ?? []).map { try Bytes32(hex: $0) }
                        ))
                }
                let transaction = EIP1559Transaction(
                    chainId: chainId, nonce: try uint64("nonce"), maxPriorityFeePerGas: try uint("maxPriorityFeePerGas"),
                    maxFeePerGas: try uint("maxFeePerGas"), gasLimit: try uint64("gas"), to: to, value: try uint("value"),
                    data: data, accessList: accessList
                )
                signingHash = transaction.signingHash
                signed = transaction.signed(with: key)
            }
            #expect(signingHash.hexString == (try entry.string("signingHash")), "case \(index)")
            #expect(signed.rawHex == (try entry.string("raw")), "case \(index)")
            #expect(signed.hash.hexString == (try entry.string("hash")), "case \(index)")
            #expect(signed.from.checksummed == (try entry.string("from")), "case \(index)")
            // Parsing the raw transaction recovers the same body and sender.
            let parsed = try SignedTransaction(rawHex: entry.string("raw"))
            #expect(parsed == signed, "case \(index)")
            #expect(parsed.from.checksummed == (try entry.string("from")))
        }
    }

    @Test("the chain id is bound into the signature")
    func chainBinding() throws {
        let key = try PrivateKey(hex: "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
        let base = LegacyTransaction(
            chainId: 8453, nonce: 1, gasPrice: 1_000_000_000, gasLimit: 21000,
            to: try EthereumAddress("0x209693Bc6afc0C5328bA36FaF03C514EF312287C"), value: 1)
        var other = base
        other.chainId = 84532
        #expect(base.signingHash != other.signingHash)
        let signed = base.signed(with: key)
        let parsed = try SignedTransaction(rawBytes: signed.rawBytes)
        guard case let .legacy(body) = parsed.body else {
            Issue.record("expected legacy")
            return
        }
        #expect(body.chainId == 8453)
        #expect(parsed.from == key.address)
    }

    @Test("raw transactions with unsupported types, bad RLP or tampered fields are rejected or re-attributed")
    func rawRejections() throws {
        let key = try PrivateKey(hex: "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
        let transaction = EIP1559Transaction(
            chainId: 8453, nonce: 0, maxPriorityFeePerGas: 1, maxFeePerGas: 2, gasLimit: 50000,
            to: try EthereumAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e"),
            data: try ABI.encodeCall("approve(address,uint256)", [.address(Permit2.address), .uint(.max)]))
        let signed = transaction.signed(with: key)
        #expect(try SignedTransaction(rawBytes: signed.rawBytes).from == key.address)
        #expect(throws: TransactionError.unsupportedType(0x01)) { try SignedTransaction(rawBytes: [0x01] + signed.rawBytes.dropFirst()) }
        #expect(throws: TransactionError.self) { try SignedTransaction(rawBytes: signed.rawBytes.dropLast()) }
        #expect(throws: TransactionError.self) { try SignedTransaction(rawBytes: [UInt8]()) }
        // Changing the nonce keeps a valid encoding but recovers a different sender.
        var tampered = transaction
        tampered.nonce = 1
        let forged = tampered.signed(with: key).rawBytes
        var swapped = forged
        // Put the original signature on the tampered body.
        let original = try RLPItem(decoding: signed.rawBytes.dropFirst()).listValue!
        var items = try RLPItem(decoding: forged.dropFirst()).listValue!
        items[9] = original[9]
        items[10] = original[10]
        items[11] = original[11]
        swapped = [0x02] + RLPItem.list(items).encoded
        if let parsed = try? SignedTransaction(rawBytes: swapped) {
            #expect(parsed.from != key.address)
        }
    }
}
