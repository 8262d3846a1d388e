import Foundation
import Testing
import X402

@testable import X402EVM

@Suite("EIP-712")
struct EIP712Tests {
    static let specAuthorizationDomain = EIP712Domain(
        name: "USDC", version: "2", chainId: 84532,
        verifyingContract: try! EthereumAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e")
    )

    @Test("generic encoder matches eth-account for every fixture (separator, struct hash, digest, signature, signer)")
    func genericFixtures() throws {
        let cases = try Fixture.objects("eip712.json")
        #expect(cases.count > 200)
        var signed = 0
        for (index, entry) in cases.enumerated() {
            let typedData = try TypedData(json: Fixture.data(try #require(entry["typedData"])))
            let label = "case \(index) (\(try entry.string("kind")))"
            #expect(try typedData.domainSeparator().hexString == entry.string("domainSeparator"), "\(label)")
            #expect(try typedData.structHash().hexString == entry.string("structHash"), "\(label)")
            let digest = try typedData.digest()
            #expect(digest.hexString == (try entry.string("digest")), "\(label)")
            let signature = try Signature(hex: entry.string("signature"))
            #expect(try typedData.recoverSigner(of: signature).checksummed == entry.string("signer"), "\(label)")
            if let keyHex = entry.optionalString("privateKey") {
                let key = try PrivateKey(hex: keyHex)
                #expect(key.address.checksummed == (try entry.string("signer")))
                #expect(try typedData.sign(with: key).hexString == entry.string("signature"), "\(label)")
                signed += 1
            }
            // The domain fast path agrees with the generic separator.
            #expect(try EIP712Domain(typedData.domain).separator.hexString == entry.string("domainSeparator"), "\(label)")
        }
        #expect(signed > 100)
    }

    @Test("TransferWithAuthorization fast path matches the fixtures and round-trips to typed data")
    func transferWithAuthorizationFixtures() throws {
        let cases = try Fixture.objects("eip712.json").filter { $0["kind"] as? String == "transferWithAuthorization" }
        #expect(cases.count > 50)
        for entry in cases {
            let typedData = try TypedData(json: Fixture.data(try #require(entry["typedData"])))
            let domain = try EIP712Domain(typedData.domain)
            let authorization = try TransferWithAuthorization(typedData.message)
            #expect(authorization.structHash.hexString == (try entry.string("structHash")))
            #expect(authorization.digest(in: domain).hexString == (try entry.string("digest")))
            let signature = try Signature(hex: entry.string("signature"))
            #expect(try authorization.recoverSigner(of: signature, in: domain).checksummed == entry.string("signer"))
            if let keyHex = entry.optionalString("privateKey") {
                #expect(authorization.sign(with: try PrivateKey(hex: keyHex), in: domain) == signature)
            }
            let rebuilt = authorization.typedData(in: domain)
            #expect(try rebuilt.digest() == authorization.digest(in: domain))
            // Codable round trip of the x402 authorization shape.
            let json = try JSONEncoder().encode(authorization)
            #expect(try JSONDecoder().decode(TransferWithAuthorization.self, from: json) == authorization)
        }
    }

    @Test("PermitWitnessTransferFrom fast path matches the fixtures")
    func permit2Fixtures() throws {
        let cases = try Fixture.objects("eip712.json").filter { $0["kind"] as? String == "permit2Witness" }
        #expect(cases.count > 50)
        for entry in cases {
            let typedData = try TypedData(json: Fixture.data(try #require(entry["typedData"])))
            let permit = try PermitWitnessTransferFrom(message: typedData.message)
            let domain = try EIP712Domain(typedData.domain)
            #expect(permit.structHash.hexString == (try entry.string("structHash")))
            #expect(permit.digest(in: domain).hexString == (try entry.string("digest")))
            if let chainId = domain.chainId, domain == Permit2.domain(chainId: chainId) {
                #expect(permit.digest(chainId: chainId).hexString == (try entry.string("digest")))
                #expect(try permit.typedData(chainId: chainId).digest() == permit.digest(chainId: chainId))
            }
            let signature = try Signature(hex: entry.string("signature"))
            #expect(try signature.recoverSigner(digest: permit.digest(in: domain)).checksummed == entry.string("signer"))
        }
    }

    @Test("spec EIP-3009 example: derived separator, struct hash, digest; signature recovers to from")
    func specVector() throws {
        let authorization = TransferWithAuthorization(
            from: try EthereumAddress("0x857b06519E91e3A54538791bDbb0E22373e36b66"),
            to: try EthereumAddress("0x209693Bc6afc0C5328bA36FaF03C514EF312287C"),
            value: 10000, validAfter: 1_740_672_089, validBefore: 1_740_672_154,
            nonce: try Bytes32(hex: "0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480")
        )
        let domain = Self.specAuthorizationDomain
        #expect(domain.separator.hexString == "0x71f17a3b2ff373b803d70a5a07c046c1a2bc8e89c09ef722fcb047abe94c9818")
        #expect(authorization.structHash.hexString == "0x49ad644555c7bdf3ea4fc022a4940ae5589b230b1dde0065c5504fa19bbe39a4")
        #expect(authorization.digest(in: domain).hexString == "0xf256992871671abcb27ff92885a7afa46218724e5fc0bac35d050115aa1d22e6")
        let signature = try Signature(
            hex:
                "0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c"
        )
        #expect(try authorization.recoverSigner(of: signature, in: domain) == authorization.from)
        #expect(TransferWithAuthorization.typeHash.hexString == "0x7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267")
    }

    @Test("domain separators and type hashes from test-vectors.md §7")
    func derivedConstants() throws {
        let baseUSDC = EIP712Domain(
            name: "USD Coin", version: "2", chainId: 8453,
            verifyingContract: try EthereumAddress("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"))
        #expect(baseUSDC.separator.hexString == "0x02fa7265e7c5d81118673727957699e4d68f74cd74b7db77da710fe8a2c7834f")
        #expect(Permit2.domain(chainId: 8453).separator.hexString == "0x3b6f35e4fce979ef8eac3bcdc8c3fc38fe7911bb0c69c8fe72bf1fd1a17e6f07")
        #expect(Permit2.domain(chainId: 84532).separator.hexString == "0x010f27a92fb9a32622f44f001dc4d15706a85b33499cfc2ce9033113ab26592c")
        #expect(
            EIP712Domain(name: "x402 offer", version: "1", chainId: 1).separator.hexString
                == "0x5dc92544087ab60aa57c539b9543f9282416b0dcf2c2ae0d4d0051052a9e61b6")
        #expect(
            EIP712Domain(name: "x402 receipt", version: "1", chainId: 1).separator.hexString
                == "0xfd7f8c81cdd24b25c99ba22e191cee41d8809abbc12e8fdbd42fddfa5bb9e406")
        #expect(PermitWitnessTransferFrom.exactTypeHash.hexString == "0xebc156cd23678a74c94df13d772ef5478420637f0c94bd10d509e1dc98f521c7")
        #expect(PermitWitnessTransferFrom.uptoTypeHash.hexString == "0x51dff6974ad4388c499e7fcfe838d2bd767162553a144098ce20ea661d70c2ee")
        #expect(PermitWitnessTransferFrom.Witness.exactTypeHash.hexString == "0xd97b3239a7f32295517bd14cb074edfdd188dfe5eb42f802bb26d4fd1eb12c37")
        #expect(PermitWitnessTransferFrom.Witness.uptoTypeHash.hexString == "0xd4171c445a74218b01d4fd8af34ff1106580ea1e36ff837e64484bfaa2253b75")
        // Cached domains are equal values with equal separators.
        #expect(Permit2.domain(chainId: 8453) == Permit2.domain(chainId: 8453))
    }

    @Test("upto witness: fast path equals the generic encoder")
    func uptoWitness() throws {
        let key = try PrivateKey(hex: "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
        let permit = PermitWitnessTransferFrom(
            permitted: .init(token: try EthereumAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e"), amount: 10000),
            spender: Permit2.uptoProxyAddress, nonce: UInt256.max - 5, deadline: 1_740_672_154,
            witness: .init(
                to: try EthereumAddress("0x209693Bc6afc0C5328bA36FaF03C514EF312287C"),
                facilitator: try EthereumAddress("0x857b06519E91e3A54538791bDbb0E22373e36b66"), validAfter: 1_740_672_089)
        )
        let typedData = permit.typedData(chainId: 84532)
        #expect(try typedData.digest() == permit.digest(chainId: 84532))
        #expect(try typedData.encodeType("PermitWitnessTransferFrom") == PermitWitnessTransferFrom.uptoTypeString)
        let signature = permit.sign(with: key, chainId: 84532)
        #expect(try permit.recoverSigner(of: signature, chainId: 84532) == key.address)
        // JSON text round trip keeps the digest.
        let reparsed = try TypedData(json: typedData.jsonValue.serialized())
        #expect(try reparsed.digest() == permit.digest(chainId: 84532))
        #expect(try PermitWitnessTransferFrom(message: reparsed.message) == permit)
    }

    static let mail = """
        {"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],
        "Person":[{"name":"name","type":"string"},{"name":"wallet","type":"address"}],
        "Mail":[{"name":"from","type":"Person"},{"name":"to","type":"Person"},{"name":"contents","type":"string"}]},
        "primaryType":"Mail",
        "domain":{"name":"Ether Mail","version":"1","chainId":1,"verifyingContract":"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
        "message":{"from":{"name":"Cow","wallet":"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},"to":{"name":"Bob","wallet":"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},"contents":"Hello, Bob!"}}
        """

    @Test("the EIP-712 Mail example: published encodeType and digest")
    func mailExample() throws {
        let typedData = try TypedData(json: Self.mail)
        #expect(try typedData.encodeType("Mail") == "Mail(Person from,Person to,string contents)Person(string name,address wallet)")
        #expect(try typedData.digest().hexString == "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2")
        let key = try PrivateKey(bytes: Keccak256.hash(utf8: "cow").bytes)
        #expect(key.address.checksummed == "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826")
        let signature = try typedData.sign(with: key)
        #expect(
            signature.hexString
                == "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b915621c"
        )
    }

    @Test("malformed typed data fails with typed errors")
    func malformed() throws {
        func mutated(_ transform: (inout JSONObject) -> Void) throws -> TypedData {
            guard case var .object(root) = try JSONValue(parsing: Self.mail) else { throw TypedDataError.invalidStructure("") }
            transform(&root)
            return try TypedData(value: .object(root))
        }
        #expect(throws: TypedDataError.self) { try TypedData(json: "{\"types\": ") }
        #expect(throws: TypedDataError.invalidStructure("missing or invalid \"primaryType\" string")) {
            try mutated { $0["primaryType"] = nil }
        }
        #expect(throws: TypedDataError.undefinedType("Letter")) {
            try mutated { $0["primaryType"] = .string("Letter") }.digest()
        }
        #expect(throws: TypedDataError.missingValue(path: "message.to.wallet")) {
            try mutated { root in
                root["message"] = try! JSONValue(
                    parsing: #"{"from":{"name":"a","wallet":"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},"to":{"name":"b"},"contents":""}"#)
            }.digest()
        }
        #expect(throws: TypedDataError.self) {
            try mutated { root in
                root["message"] = try! JSONValue(
                    parsing:
                        #"{"from":{"name":"a","wallet":"0xcD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},"to":{"name":"b","wallet":"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},"contents":""}"#
                )
            }.digest()
        }
        #expect(
            throws: TypedDataError.domainMismatch(
                declared: ["chainId", "name", "verifyingContract", "version"], present: ["chainId", "name", "verifyingContract"])
        ) {
            try mutated { root in
                root["domain"] = try! JSONValue(
                    parsing: #"{"name":"Ether Mail","chainId":1,"verifyingContract":"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"}"#)
            }.digest()
        }
        let uint8 =
            #"{"types":{"EIP712Domain":[{"name":"name","type":"string"}],"T":[{"name":"v","type":"uint8"}]},"primaryType":"T","domain":{"name":"x"},"message":{"v":"256"}}"#
        #expect(throws: TypedDataError.invalidValue(path: "message.v", type: "uint8", reason: "out of range for 8 bits")) {
            try TypedData(json: uint8).digest()
        }
        let negativeUint = uint8.replacingOccurrences(of: "\"256\"", with: "-1")
        #expect(throws: TypedDataError.self) { try TypedData(json: negativeUint).digest() }
        let fixedArray =
            #"{"types":{"EIP712Domain":[{"name":"name","type":"string"}],"T":[{"name":"v","type":"uint256[3]"}]},"primaryType":"T","domain":{"name":"x"},"message":{"v":[1,2]}}"#
        #expect(throws: TypedDataError.arrayLengthMismatch(path: "message.v", expected: 3, actual: 2)) {
            try TypedData(json: fixedArray).digest()
        }
        let shortBytes =
            #"{"types":{"EIP712Domain":[{"name":"name","type":"string"}],"T":[{"name":"v","type":"bytes32"}]},"primaryType":"T","domain":{"name":"x"},"message":{"v":"0x1234"}}"#
        #expect(throws: TypedDataError.self) { try TypedData(json: shortBytes).digest() }
        let duplicateKey = #"{"types":{},"types":{}}"#
        #expect(throws: TypedDataError.self) { try TypedData(json: duplicateKey) }
    }

    @Test("JSON numbers above 2^53 are exact, and numbers and strings hash the same")
    func exactNumbers() throws {
        let asString =
            #"{"types":{"EIP712Domain":[{"name":"chainId","type":"uint256"}],"T":[{"name":"v","type":"uint256"},{"name":"i","type":"int256"}]},"primaryType":"T","domain":{"chainId":1},"message":{"v":"115792089237316195423570985008687907853269984665640564039457584007913129639935","i":"-57896044618658097711785492504343953926634992332820282019728792003956564819968"}}"#
        let asNumber =
            asString
            .replacingOccurrences(
                of: "\"115792089237316195423570985008687907853269984665640564039457584007913129639935\"",
                with: "115792089237316195423570985008687907853269984665640564039457584007913129639935"
            )
            .replacingOccurrences(
                of: "\"-57896044618658097711785492504343953926634992332820282019728792003956564819968\"",
                with: "-57896044618658097711785492504343953926634992332820282019728792003956564819968")
        let asHex = asString.replacingOccurrences(
            of: "\"115792089237316195423570985008687907853269984665640564039457584007913129639935\"",
            with: "\"0x" + String(repeating: "f", count: 64) + "\"")
        #expect(try TypedData(json: asString).digest() == TypedData(json: asNumber).digest())
        #expect(try TypedData(json: asString).digest() == TypedData(json: asHex).digest())
    }

    @Test("TypedData Codable round trip")
    func codable() throws {
        let typedData = try TypedData(json: Self.mail)
        let encoded = try JSONEncoder().encode(typedData)
        let decoded = try JSONDecoder().decode(TypedData.self, from: encoded)
        #expect(try decoded.digest() == typedData.digest())
    }

    @Test("Codable keeps integers beyond Int64 exact (UInt64, then Decimal), never rounded through Double")
    func codableExactIntegers() throws {
        let json =
            #"{"types":{"EIP712Domain":[{"name":"chainId","type":"uint256"}],"T":[{"name":"a","type":"uint256"},{"name":"b","type":"uint256"}]},"primaryType":"T","domain":{"chainId":1},"message":{"a":18446744073709551615,"b":1000000000000000000000000000001}}"#
        let typedData = try TypedData(json: json)
        let asStrings = try TypedData(
            json:
                json
                .replacingOccurrences(of: "18446744073709551615", with: "\"18446744073709551615\"")
                .replacingOccurrences(of: "1000000000000000000000000000001", with: "\"1000000000000000000000000000001\""))
        #expect(try typedData.digest() == asStrings.digest())
        let decoded = try JSONDecoder().decode(TypedData.self, from: Data(json.utf8))
        #expect(decoded == typedData)
        #expect(try decoded.digest() == typedData.digest())
        let reencoded = try JSONDecoder().decode(TypedData.self, from: JSONEncoder().encode(typedData))
        #expect(try reencoded.digest() == typedData.digest())
    }

    @Test("typed-data JSON goes through the core parser: 128 levels of nesting, errors carry the parser's offset")
    func coreParser() throws {
        func typedData(depth: Int) -> String {
            // The root object and `message` are two levels; the rest are arrays.
            let arrays = depth - 2
            return #"{"types":{},"primaryType":"T","domain":{},"message":{"v":"# + String(repeating: "[", count: arrays)
                + String(repeating: "]", count: arrays) + "}}"
        }
        _ = try TypedData(json: typedData(depth: TypedData.maximumDepth))
        let tooDeep = typedDataParseError { _ = try TypedData(json: typedData(depth: TypedData.maximumDepth + 1)) }
        #expect(tooDeep?.kind == .tooDeep(limit: 128))
        #expect(tooDeep?.offset == 57 + 126)  // the 127th bracket, after the 57-byte prefix
        let duplicate = typedDataParseError { _ = try TypedData(json: #"{"types":{},"types":{}}"#) }
        #expect(duplicate?.kind == .duplicateKey("types"))
        #expect(duplicate?.offset == 12)
        let surrogate = typedDataParseError { _ = try TypedData(json: #"{"types":{},"primaryType":"\ud800"}"#) }
        #expect(surrogate?.kind == .invalidUnicodeEscape)
        #expect(surrogate?.offset == 33)
    }

    @Test("the JSON form is deterministic and re-parses to equal typed data")
    func jsonForm() throws {
        let permit = PermitWitnessTransferFrom(
            permitted: .init(token: try EthereumAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e"), amount: 10000),
            spender: Permit2.uptoProxyAddress, nonce: 7, deadline: 1_740_672_154,
            witness: .init(
                to: try EthereumAddress("0x209693Bc6afc0C5328bA36FaF03C514EF312287C"),
                facilitator: try EthereumAddress("0x857b06519E91e3A54538791bDbb0E22373e36b66"), validAfter: 1_740_672_089)
        )
        let typedData = permit.typedData(chainId: 84532)
        let text = typedData.jsonValue.serializedString()
        #expect(text == typedData.jsonValue.serializedString())
        let root = try JSONValue(parsing: text)
        #expect(root.objectValue?.keys == ["types", "primaryType", "domain", "message"])
        #expect(root["types"]?.objectValue?.keys == ["EIP712Domain", "PermitWitnessTransferFrom", "TokenPermissions", "Witness"])
        #expect(root["domain"]?.objectValue?.keys == ["name", "chainId", "verifyingContract"])
        #expect(root["domain"]?["chainId"] == .number(JSONNumber(84532)))
        #expect(root["message"]?["witness"]?.objectValue?.keys == ["to", "facilitator", "validAfter"])
        #expect(try TypedData(json: text) == typedData)
        #expect(try TypedData(value: root) == typedData)
    }
}

/// The core parser's error inside the ``TypedDataError/invalidJSON(_:)`` that `body` threw; `nil` if
/// it threw anything else or nothing.
func typedDataParseError(_ body: () throws -> Void) -> JSONParseError? {
    do {
        try body()
    } catch let TypedDataError.invalidJSON(error) {
        return error
    } catch {}
    return nil
}
