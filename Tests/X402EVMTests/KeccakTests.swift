import Foundation
import Testing

@testable import X402EVM

@Suite("Keccak-256")
struct KeccakTests {
    @Test("matches eth-hash for every fixture input (lengths 0…300, rate boundaries, multi-block)")
    func fixtures() throws {
        let cases = try Fixture.objects("keccak.json")
        #expect(cases.count > 300)
        for entry in cases {
            let input = try Hex.decode(entry.string("input"))
            let expected = try entry.string("hash")
            #expect(Keccak256.hash(input).hexString == expected, "input length \(input.count)")
        }
    }

    @Test("is Keccak, not NIST SHA3-256 (padding 0x01, not 0x06)")
    func notSHA3() {
        #expect(Keccak256.hash([UInt8]()).hexString == "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        // SHA3-256("") = a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a
        #expect(Keccak256.hash([UInt8]()).hexString != "0xa7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a")
    }

    @Test("derived EIP-712 type hashes from test-vectors.md §7.1")
    func typeHashes() {
        let table: [(String, String)] = [
            (
                "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)",
                "0x8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f"
            ),
            (
                "EIP712Domain(string name,uint256 chainId,address verifyingContract)",
                "0x8cad95687ba82c2ce50e74f7b754645e5117c3a5bec8151c0726d5857980a866"
            ),
            (
                "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)",
                "0x7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267"
            ),
            (
                "PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,Witness witness)TokenPermissions(address token,uint256 amount)Witness(address to,uint256 validAfter)",
                "0xebc156cd23678a74c94df13d772ef5478420637f0c94bd10d509e1dc98f521c7"
            ),
            ("TokenPermissions(address token,uint256 amount)", "0x618358ac3db8dc274f0cd8829da7e234bd48cd73c4a740aede1adec9846d06a1"),
        ]
        for (text, hash) in table {
            #expect(Keccak256.hash(utf8: text).hexString == hash)
        }
    }

    @Test("sequence and raw-buffer entry points agree")
    func entryPoints() {
        let bytes = (0..<500).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let viaArray = Keccak256.hash(bytes)
        let viaSlice = Keccak256.hash(bytes[0..<500])
        let viaLazy = Keccak256.hash(bytes.lazy.map { $0 })
        #expect(viaArray == viaSlice)
        #expect(viaArray == viaLazy)
    }
}
