import GRPCCore
import InstanceManagerAPI
import Testing

/// The gRPC paths Longhorn's clients call: "/" + service full name + "/" + method.
@Suite struct MethodPathTests {
    private func path(_ method: MethodDescriptor) -> String {
        "/" + method.fullyQualifiedMethod
    }

    @Test func processManagerHasNoPackage() {
        #expect(path(ProcessManagerService.Method.ProcessList.descriptor) == "/ProcessManagerService/ProcessList")
        #expect(path(ProcessManagerService.Method.ProcessCreate.descriptor) == "/ProcessManagerService/ProcessCreate")
        #expect(ProcessManagerService.Method.descriptors.count == 8)
    }

    @Test func imrpcServices() {
        #expect(path(Imrpc_InstanceService.Method.InstanceList.descriptor) == "/imrpc.InstanceService/InstanceList")
        #expect(path(Imrpc_InstanceService.Method.InstanceWatch.descriptor) == "/imrpc.InstanceService/InstanceWatch")
        #expect(Imrpc_InstanceService.Method.InstanceWatch.descriptor.type == .serverStreaming)
        #expect(Imrpc_InstanceService.Method.descriptors.count == 16)
        #expect(
            path(Imrpc_DiskService.Method.DiskReplicaInstanceDelete.descriptor)
                == "/imrpc.DiskService/DiskReplicaInstanceDelete")
        #expect(Imrpc_DiskService.Method.descriptors.count == 8)
        #expect(path(Imrpc_ProxyEngineService.Method.ReplicaAdd.descriptor) == "/imrpc.ProxyEngineService/ReplicaAdd")
        #expect(
            path(Imrpc_ProxyEngineService.Method.SPDKBackingImageWatch.descriptor)
                == "/imrpc.ProxyEngineService/SPDKBackingImageWatch")
    }

    @Test func spdkService() {
        #expect(path(Spdkrpc_SPDKService.Method.EngineCreate.descriptor) == "/spdkrpc.SPDKService/EngineCreate")
        #expect(path(Spdkrpc_SPDKService.Method.ReplicaWatch.descriptor) == "/spdkrpc.SPDKService/ReplicaWatch")
        #expect(Spdkrpc_SPDKService.Method.ReplicaWatch.descriptor.type == .serverStreaming)
        #expect(path(Spdkrpc_SPDKService.Method.VersionDetailGet.descriptor) == "/spdkrpc.SPDKService/VersionDetailGet")
    }

    @Test func healthAndReflection() {
        #expect(path(Grpc_Health_V1_Health.Method.Check.descriptor) == "/grpc.health.v1.Health/Check")
        #expect(
            path(Grpc_Reflection_V1_ServerReflection.Method.ServerReflectionInfo.descriptor)
                == "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        )
        #expect(
            path(Grpc_Reflection_V1alpha_ServerReflection.Method.ServerReflectionInfo.descriptor)
                == "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
        )
    }
}
