import Foundation
import Testing
import X402
import X402Solana

@Suite struct TransactionTests {
    static let facilitator = try! SolanaKeypair(seed: Hex.decode(SVMVectors.json["facilitator"]!["seedHex"]!.string))

    static func instructions(_ v: JSONValue) throws -> [SolanaInstruction] {
        try v["instructionsBeforeCompile"]!.arrayValue!.map { ix in
            SolanaInstruction(
                programID: try SolanaPublicKey(base58: ix["programId"]!.string),
                accounts: try ix["accounts"]!.arrayValue!.map {
                    SolanaAccountMeta(
                        try SolanaPublicKey(base58: $0["pubkey"]!.string), isSigner: $0["isSigner"]!.bool, isWritable: $0["isWritable"]!.bool)
                }, data: Hex.decode(ix["dataHex"]!.string))
        }
    }

    @Test func vectorsCompileSignAndSerializeByteForByte() throws {
        let vectors = SVMVectors.section("vectors")
        #expect(vectors.count == 3)
        for v in vectors {
            let inputs = v["inputs"]!
            let payer = try SolanaKeypair(seed: Hex.decode(inputs["payerSeedHex"]!.string))
            #expect(payer.publicKey.base58 == inputs["payer"]!.string)
            #expect(try SolanaKeypair(text: inputs["payerKeypairBase58"]!.string).publicKey == payer.publicKey)
            let feePayer = try SolanaPublicKey(base58: inputs["feePayer"]!.string)
            let blockhash = try SolanaHash(base58: inputs["recentBlockhash"]!.string)
            #expect(Hex.encode(blockhash.bytes) == inputs["recentBlockhashHex"]!.string)

            // The instructions the client builds equal the vector's.
            let mint = try SolanaPublicKey(base58: inputs["mint"]!.string)
            let program = try SolanaPublicKey(base58: inputs["tokenProgram"]!.string)
            let payTo = try SolanaPublicKey(base58: inputs["payTo"]!.string)
            let source = ProgramDerivedAddress.associatedTokenAddress(owner: payer.publicKey, mint: mint, tokenProgram: program)
            let destination = ProgramDerivedAddress.associatedTokenAddress(owner: payTo, mint: mint, tokenProgram: program)
            #expect(source.address.base58 == v["derived"]!["sourceAta"]!.string)
            #expect(Int(source.bump) == v["derived"]!["sourceAtaBump"]!.int)
            #expect(destination.address.base58 == v["derived"]!["destinationAta"]!.string)
            #expect(Int(destination.bump) == v["derived"]!["destinationAtaBump"]!.int)
            let built = [
                ComputeBudgetInstruction.setComputeUnitLimit(UInt32(inputs["computeUnitLimit"]!.int)),
                ComputeBudgetInstruction.setComputeUnitPrice(UInt64(inputs["computeUnitPriceMicroLamports"]!.int)),
                TokenInstruction.transferChecked(
                    source: source.address, mint: mint, destination: destination.address, authority: payer.publicKey,
                    amount: UInt64(inputs["amount"]!.string)!, decimals: UInt8(inputs["decimals"]!.int), tokenProgram: program),
                MemoInstruction.memo(Array(inputs["memoUtf8"]!.string.utf8)),
            ]
            #expect(built == (try Self.instructions(v)))

            let message = SolanaMessage.compile(payer: feePayer, instructions: built, recentBlockhash: blockhash)
            let m = v["message"]!
            #expect(message.accountKeys.map(\.base58) == m["staticAccountKeys"]!.arrayValue!.map(\.string))
            #expect(Int(message.header.numRequiredSignatures) == m["header"]!["numRequiredSignatures"]!.int)
            #expect(Int(message.header.numReadonlySignedAccounts) == m["header"]!["numReadonlySignedAccounts"]!.int)
            #expect(Int(message.header.numReadonlyUnsignedAccounts) == m["header"]!["numReadonlyUnsignedAccounts"]!.int)
            for (compiled, expected) in zip(message.instructions, m["instructions"]!.arrayValue!) {
                #expect(Int(compiled.programIDIndex) == expected["programIdIndex"]!.int)
                #expect(compiled.accountIndices.map(Int.init) == expected["accountIndices"]!.arrayValue!.map(\.int))
                #expect(Hex.encode(compiled.data) == expected["dataHex"]!.string)
            }
            #expect(Hex.encode(message.serialize()) == v["messageBytesHex"]!.string)
            #expect(Data(message.serialize()).base64EncodedString() == v["messageBytesBase64"]!.string)

            // Partial signature by the payer, then the facilitator's.
            var transaction = SolanaTransaction(message: message)
            try transaction.sign(with: payer)
            #expect(transaction.signatures[1].base58 == v["payerSignatureBase58"]!.string)
            #expect(Hex.encode(transaction.signatures[1].bytes) == v["payerSignatureHex"]!.string)
            #expect(transaction.signatures[0].isEmpty)
            #expect(transaction.base64 == v["partiallySignedTransactionBase64"]!.string)
            #expect(transaction.invalidSignatureSlots() == [0])
            #expect(transaction.invalidSignatureSlots(allowingEmpty: [0]).isEmpty)
            try transaction.sign(with: Self.facilitator)
            #expect(transaction.signatures[0].base58 == v["facilitatorSignatureBase58"]!.string)
            #expect(transaction.base64 == v["fullySignedTransactionBase64"]!.string)
            #expect(transaction.id == v["transactionId"]!.string)
            #expect(transaction.isFullySigned)

            // Decode → same message, same bytes, same instructions.
            let decoded = try SolanaTransaction(base64: v["partiallySignedTransactionBase64"]!.string)
            #expect(decoded.message == message)
            #expect(decoded.messageBytes == message.serialize())
            #expect(try decoded.message.decompile() == built)
            #expect(decoded.signatures[1] == transaction.signatures[1])
            let stranger = try SolanaKeypair(seed: [UInt8](repeating: 9, count: 32))
            #expect(throws: SolanaTransaction.SigningError.notASigner(stranger.publicKey)) {
                var copy = decoded
                try copy.sign(with: stranger)
            }
        }
    }

    @Test func positiveVariantsDecodeIncludingLegacy() throws {
        let variants = SVMVectors.section("positiveVariants")
        #expect(variants.count == 4)
        for v in variants {
            let transaction = try SolanaTransaction(base64: v["paymentPayload"]!["payload"]!["transaction"]!.string)
            #expect(Hex.encode(transaction.messageBytes) == v["messageBytesHex"]!.string)
            #expect(transaction.message.serialize() == transaction.messageBytes)
            #expect(transaction.invalidSignatureSlots(allowingEmpty: [0]).isEmpty)
            #expect(transaction.message.version == (v["name"]!.string == "legacy-message-format" ? .legacy : .v0))
            let instructions = try transaction.message.decompile()
            #expect((3...7).contains(instructions.count))
            #expect(transaction.base64 == v["paymentPayload"]!["payload"]!["transaction"]!.string)
        }
    }

    static var sampleWire: [UInt8] {
        Array(Data(base64Encoded: SVMVectors.section("vectors")[0]["fullySignedTransactionBase64"]!.string)!)
    }

    @Test func everyTruncationIsATypedError() {
        let wire = Self.sampleWire
        for n in 0..<wire.count {
            #expect(throws: SolanaDecodingError.self) { try SolanaTransaction(bytes: Array(wire.prefix(n))) }
        }
        #expect(throws: SolanaDecodingError.trailingBytes(1)) { try SolanaTransaction(bytes: wire + [0]) }
        #expect(throws: SolanaDecodingError.tooLarge(1233)) { try SolanaTransaction(bytes: [UInt8](repeating: 1, count: 1233)) }
    }

    @Test func hostileStructureIsRefused() throws {
        let wire = Self.sampleWire
        let messageStart = 1 + 2 * 64
        // Signature count differs from the header.
        var fewer = [UInt8(1)] + wire[1..<65] + wire[messageStart...]
        #expect(throws: SolanaDecodingError.signatureCountMismatch(signatures: 1, required: 2)) { try SolanaTransaction(bytes: fewer) }
        // Huge declared counts: refused before allocation.
        fewer = [0xFF, 0xFF, 0x03] + wire[1...]
        #expect(throws: SolanaDecodingError.truncated) { try SolanaTransaction(bytes: fewer) }
        // Non-canonical shortvec.
        #expect(throws: SolanaDecodingError.invalidLength(.nonCanonical)) { try SolanaTransaction(bytes: [0x82, 0x00] + wire[1...]) }
        // Unsupported versions.
        for version: UInt8 in [0x81, 0xFF] {
            var bytes = wire
            bytes[messageStart] = version
            #expect(throws: SolanaDecodingError.unsupportedVersion(version & 0x7F)) { try SolanaTransaction(bytes: bytes) }
        }
        // Header: readonly signers ≥ signers; counts beyond the keys.
        var bytes = wire
        bytes[messageStart + 2] = 2
        #expect(throws: SolanaDecodingError.invalidHeader) { try SolanaTransaction(bytes: bytes) }
        bytes = wire
        bytes[messageStart + 3] = 7
        #expect(throws: SolanaDecodingError.invalidHeader) { try SolanaTransaction(bytes: bytes) }
        // Instruction indices: program beyond the keys, the fee payer as a program, account beyond the keys.
        let decoded = try SolanaTransaction(bytes: wire)
        for mutate in [
            { (m: inout SolanaMessage) in m.instructions[0].programIDIndex = 8 },
            { (m: inout SolanaMessage) in m.instructions[0].programIDIndex = 0 },
            { (m: inout SolanaMessage) in m.instructions[2].accountIndices[0] = 200 },
        ] {
            var message = decoded.message
            mutate(&message)
            #expect(throws: SolanaDecodingError.invalidIndex) { try SolanaMessage(bytes: message.serialize()) }
            #expect(throws: SolanaDecodingError.invalidIndex) { try message.sanitize() }
        }
        // Duplicate keys.
        var message = decoded.message
        message.accountKeys[3] = message.accountKeys[2]
        #expect(throws: SolanaDecodingError.duplicateAccountKey) { try SolanaMessage(bytes: message.serialize()) }
        // Address-table lookups decode but do not decompile.
        message = decoded.message
        message.addressTableLookups = [SolanaAddressTableLookup(accountKey: .systemProgram, writableIndexes: [1], readonlyIndexes: [])]
        let withLookup = try SolanaMessage(bytes: message.serialize())
        #expect(withLookup.addressTableLookups.count == 1)
        #expect(throws: SolanaDecodingError.addressTableLookupsUnsupported) { try withLookup.decompile() }
        // Bad base64.
        #expect(throws: SolanaDecodingError.self) { try SolanaTransaction(base64: "not base64!") }
        #expect(throws: SolanaDecodingError.self) { try SolanaTransaction(base64: String(repeating: "A", count: 5000)) }
    }

    @Test func randomBytesNeverTrap() {
        var rng = SystemRandomNumberGenerator()
        let wire = Self.sampleWire
        for i in 0..<5000 {
            var bytes: [UInt8]
            if i % 2 == 0 {
                bytes = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                bytes = wire
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            if let tx = try? SolanaTransaction(bytes: bytes) {
                _ = try? tx.message.decompile()
                _ = tx.invalidSignatureSlots()
                #expect(tx.serialize() == bytes)
            }
        }
    }
}
