import Testing

@testable import ManagerModel

@Suite struct InstanceManagerNamingTests {
    @Test func sha512MatchesTheStandardVectors() {
        #expect(
            SHA512.hexDigest("abc")
                == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
        #expect(
            SHA512.hexDigest("")
                == "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
                + "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")
        // Two blocks: 112 bytes of message pad into a second block.
        #expect(
            SHA512.hexDigest(
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
            )
                == "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
                + "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909")
    }

    @Test func namesAreTheDigestOfNodeImageAndEngine() {
        let name = InstanceManager.name(nodeName: "node-1", image: "hornbill", dataEngine: .v2)
        #expect(name == "instance-manager-" + SHA512.hexDigest("node-1hornbillv2").prefix(32))
        #expect(name.count == "instance-manager-".count + 32)
        #expect(name != InstanceManager.name(nodeName: "node-1", image: "hornbill", dataEngine: .v1))
        #expect(
            InstanceManager.name(nodeName: "node-1", dataEngine: .v1)
                == InstanceManager.name(nodeName: "node-1", image: "hornbill", dataEngine: .v1))
    }
}
