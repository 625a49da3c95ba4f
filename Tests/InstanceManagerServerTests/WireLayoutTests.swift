import InstanceManagerAPI
import SwiftProtobuf
import Testing

/// Field numbers and types that Longhorn's clients depend on, checked on the encoded bytes.
@Suite struct WireLayoutTests {
    @Test func instanceSpecDataEngineIsField9() throws {
        var spec = Imrpc_InstanceSpec()
        spec.dataEngine = .v2
        #expect(try spec.serializedBytes() as [UInt8] == [0x48, 0x01])
    }

    @Test func instanceSpecKeepsItsNumbersBothWays() throws {
        var spec = Imrpc_InstanceSpec()
        spec.name = "r"
        spec.portCount = 5
        spec.spdkInstanceSpec.size = 1
        spec.engineName = "e"
        // 2: name, 5: port_count, 8: spdk_instance_spec { 4: size }, 13: engine_name.
        let bytes: [UInt8] = [0x12, 0x01, 0x72, 0x28, 0x05, 0x42, 0x02, 0x20, 0x01, 0x6A, 0x01, 0x65]
        #expect(try spec.serializedBytes() as [UInt8] == bytes)
        #expect(try Imrpc_InstanceSpec(serializedBytes: bytes) == spec)
    }

    @Test func deleteRequestCleanupRequiredIsField5() throws {
        var request = Imrpc_InstanceDeleteRequest()
        request.cleanupRequired = true
        request.dataEngine = .v2
        #expect(try request.serializedBytes() as [UInt8] == [0x28, 0x01, 0x30, 0x01])
    }

    @Test func logResponseLineIsField2() throws {
        var response = LogResponse()
        response.line = "x"
        #expect(try response.serializedBytes() as [UInt8] == [0x12, 0x01, 0x78])
    }

    @Test func misspeltReplicaInstanceNameIsField4() throws {
        var request = Imrpc_DiskReplicaInstanceDeleteRequest()
        request.replciaInstanceName = "r"
        #expect(try request.serializedBytes() as [UInt8] == [0x22, 0x01, 0x72])
    }

    @Test func spdkDiskGetRequestOrderDiffersFromImrpc() throws {
        var spdk = Spdkrpc_DiskGetRequest()
        spdk.diskPath = "p"
        var imrpc = Imrpc_DiskGetRequest()
        imrpc.diskPath = "p"
        #expect(try spdk.serializedBytes() as [UInt8] == [0x1A, 0x01, 0x70])
        #expect(try imrpc.serializedBytes() as [UInt8] == [0x1A, 0x01, 0x70])
        spdk = Spdkrpc_DiskGetRequest()
        spdk.diskDriver = "d"
        imrpc = Imrpc_DiskGetRequest()
        imrpc.diskDriver = "d"
        #expect(try spdk.serializedBytes() as [UInt8] == [0x12, 0x01, 0x64])
        #expect(try imrpc.serializedBytes() as [UInt8] == [0x22, 0x01, 0x64])
    }

    @Test func engineReplicaModeMapCarriesTheEnumNumber() throws {
        var engine = Spdkrpc_Engine()
        engine.replicaModeMap = ["r": .err]
        // 8: map entry { 1: key "r", 2: value ERR = 2 }.
        #expect(try engine.serializedBytes() as [UInt8] == [0x42, 0x05, 0x0A, 0x01, 0x72, 0x10, 0x02])
    }

    @Test func proxyReplicaListNestsPtypes() throws {
        var replica = Ptypes_ControllerReplica()
        replica.address.address = "a"
        replica.mode = .rw
        var reply = Imrpc_EngineReplicaListProxyResponse()
        reply.replicaList.replicas = [replica]
        // 1: replica_list { 1: replicas { 1: address { 1: "a" }, 2: RW } }.
        let bytes: [UInt8] = [0x0A, 0x09, 0x0A, 0x07, 0x0A, 0x03, 0x0A, 0x01, 0x61, 0x10, 0x01]
        #expect(try reply.serializedBytes() as [UInt8] == bytes)
    }

    @Test func versionResponseCarriesTheAPIVersions() throws {
        let decoded = try VersionResponse(serializedBytes: [0x20, 0x07, 0x28, 0x01, 0x30, 0x07, 0x38, 0x01] as [UInt8])
        #expect(decoded.instanceManagerApiversion == 7)
        #expect(decoded.instanceManagerApiminVersion == 1)
        #expect(decoded.instanceManagerProxyApiversion == 7)
        #expect(decoded.instanceManagerProxyApiminVersion == 1)
    }
}
