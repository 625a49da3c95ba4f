import Foundation
import InstanceManagerServer
import SwiftProtobuf
import Testing

@Suite struct ReflectionIndexTests {
    private let index: ReflectionIndex

    init() throws {
        index = try ReflectionIndex.instanceManager()
    }

    @Test func symbolsResolveToTheirFiles() {
        #expect(index.fileName(containingSymbol: "imrpc.InstanceService") == "instance.proto")
        #expect(index.fileName(containingSymbol: ".imrpc.InstanceService.InstanceList") == "instance.proto")
        #expect(index.fileName(containingSymbol: "ProcessManagerService") == "imrpc.proto")
        #expect(index.fileName(containingSymbol: "imrpc.InstanceSpec.data_engine") == "instance.proto")
        #expect(index.fileName(containingSymbol: "imrpc.DATA_ENGINE_V2") == "common.proto")
        #expect(
            index.fileName(containingSymbol: "grpc.health.v1.HealthCheckResponse.ServingStatus")
                == "grpc/health/v1/health.proto")
        #expect(index.fileName(containingSymbol: "spdkrpc.Lvol") == "lvol.proto")
        #expect(index.fileName(containingSymbol: "google.protobuf.Empty") == "google/protobuf/empty.proto")
        #expect(index.fileName(containingSymbol: "imrpc.NoSuchThing") == nil)
    }

    @Test func aFileComesWithEveryFileItImports() throws {
        let files = try #require(index.fileWithDependencies(named: "instance.proto"))
        let names = try files.map { try Google_Protobuf_FileDescriptorProto(serializedBytes: $0).name }
        #expect(names.first == "instance.proto")
        #expect(Set(names) == ["instance.proto", "google/protobuf/empty.proto", "common.proto", "imrpc.proto"])
        #expect(index.fileWithDependencies(named: "missing.proto") == nil)
    }

    @Test func extensionsOfKnownAndUnknownTypes() {
        #expect(index.extensionNumbers(of: "imrpc.InstanceSpec") == [])
        #expect(index.extensionNumbers(of: "imrpc.Missing") == nil)
        #expect(index.fileName(containingExtension: 100, of: "imrpc.InstanceSpec") == nil)
    }

    @Test func aBrokenDescriptorSetIsRejected() {
        #expect(throws: ReflectionIndex.InvalidDescriptorSet.self) {
            try ReflectionIndex(serializedFileDescriptorSet: Data([0x0A, 0x05, 0x01]))
        }
        var file = Google_Protobuf_FileDescriptorProto()
        file.name = "a.proto"
        file.dependency = ["b.proto"]
        var set = Google_Protobuf_FileDescriptorSet()
        set.file = [file]
        #expect(throws: ReflectionIndex.InvalidDescriptorSet.self) {
            try ReflectionIndex(serializedFileDescriptorSet: try set.serializedBytes())
        }
    }
}
