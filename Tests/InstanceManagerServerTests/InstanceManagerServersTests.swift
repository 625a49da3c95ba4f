import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import InstanceManagerAPI
import InstanceManagerServer
import SwiftProtobuf
import TestSupport
import Testing

/// The servers over real loopback sockets, called with clients generated from the same protos.
@Suite struct InstanceManagerServersTests {
    private static let builtIn = [
        "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection",
    ]

    private func twoServers() throws -> InstanceManagerServers {
        try InstanceManagerServers(
            endpoints: [
                InstanceManagerEndpoint(host: "127.0.0.1", port: 0, services: []),
                InstanceManagerEndpoint(host: "127.0.0.1", port: 0, services: []),
            ],
            reflection: .instanceManager()
        )
    }

    @Test(.timeLimit(.minutes(1))) func aPortAlreadyTakenEndsRunWithTheBindError() async throws {
        let taken = try RawListener()
        let servers = try InstanceManagerServers(
            endpoints: [
                InstanceManagerEndpoint(host: "127.0.0.1", port: 0, services: []),
                InstanceManagerEndpoint(host: "127.0.0.1", port: Int(taken.port), services: []),
                InstanceManagerEndpoint(host: "127.0.0.1", port: 0, services: []),
            ],
            reflection: .instanceManager()
        )
        await #expect(throws: (any Error).self) { try await servers.run() }
        await #expect(throws: (any Error).self) { _ = try await servers.listeningPorts() }
    }

    @Test func healthCheckAnswersOnEveryServer() async throws {
        let servers = try twoServers()
        try await withRunning(servers) { ports in
            #expect(ports.count == 2)
            #expect(Set(ports).count == 2)
            for port in ports {
                let (overall, reflection, unknown) = try await withClient(port: port) { client in
                    let health = Grpc_Health_V1_Health.Client(wrapping: client)
                    var request = Grpc_Health_V1_HealthCheckRequest()
                    let overall = try await health.check(request).status
                    request.service = "grpc.reflection.v1.ServerReflection"
                    let reflection = try await health.check(request).status
                    request.service = "imrpc.InstanceService"
                    let unknown: RPCError.Code?
                    do {
                        _ = try await health.check(request)
                        unknown = nil
                    } catch let error as RPCError {
                        unknown = error.code
                    }
                    return (overall, reflection, unknown)
                }
                #expect(overall == .serving)
                #expect(reflection == .serving)
                #expect(unknown == .notFound)
            }
        }
    }

    @Test func healthWatchSeesAChangeAndEndsAtShutdown() async throws {
        let servers = try twoServers()
        let seen = try await withRunning(servers) { ports in
            try await withClient(port: ports[0]) { client in
                let health = Grpc_Health_V1_Health.Client(wrapping: client)
                return try await health.watch(Grpc_Health_V1_HealthCheckRequest()) { response in
                    var statuses: [Grpc_Health_V1_HealthCheckResponse.ServingStatus] = []
                    for try await message in response.messages {
                        statuses.append(message.status)
                        if statuses == [.serving] {
                            servers.setHealth(.notServing, for: "")
                        } else if statuses == [.serving, .notServing] {
                            servers.setHealth(.serving, for: "")
                        } else {
                            // Shutting down marks the server NOT_SERVING, then ends the watch.
                            servers.beginGracefulShutdown()
                        }
                    }
                    return statuses
                }
            }
        }
        #expect(seen == [.serving, .notServing, .serving, .notServing])
    }

    @Test func reflectionListsServicesAndFindsFiles() async throws {
        let servers = try twoServers()
        let responses = try await withRunning(servers) { ports in
            try await withClient(port: ports[1]) { client in
                let reflection = Grpc_Reflection_V1_ServerReflection.Client(wrapping: client)
                return try await reflection.serverReflectionInfo { writer in
                    var request = Grpc_Reflection_V1_ServerReflectionRequest()
                    request.listServices = "*"
                    try await writer.write(request)
                    request.fileContainingSymbol = "imrpc.InstanceService"
                    try await writer.write(request)
                    request.fileContainingSymbol = "imrpc.Nothing"
                    try await writer.write(request)
                    request.fileByFilename = "spdk.proto"
                    try await writer.write(request)
                    var extensionRequest = Grpc_Reflection_V1_ExtensionRequest()
                    extensionRequest.containingType = "imrpc.InstanceSpec"
                    extensionRequest.extensionNumber = 1000
                    request.fileContainingExtension = extensionRequest
                    try await writer.write(request)
                    request.allExtensionNumbersOfType = "imrpc.InstanceSpec"
                    try await writer.write(request)
                } onResponse: { response in
                    var messages: [Grpc_Reflection_V1_ServerReflectionResponse] = []
                    for try await message in response.messages { messages.append(message) }
                    return messages
                }
            }
        }
        try #require(responses.count == 6)
        #expect(responses[0].listServicesResponse.service.map(\.name) == Self.builtIn)
        #expect(responses[0].originalRequest.listServices == "*")

        let instanceFiles = try responses[1].fileDescriptorResponse.fileDescriptorProto.map {
            try Google_Protobuf_FileDescriptorProto(serializedBytes: $0)
        }
        #expect(instanceFiles.first?.name == "instance.proto")
        #expect(instanceFiles.first?.package == "imrpc")
        #expect(instanceFiles.first?.service.first?.name == "InstanceService")
        #expect(instanceFiles.contains { $0.name == "google/protobuf/empty.proto" })

        #expect(responses[2].errorResponse.errorCode == Int32(Status.Code.notFound.rawValue))
        #expect(responses[2].errorResponse.errorMessage.contains("imrpc.Nothing"))

        let spdk = try Google_Protobuf_FileDescriptorProto(
            serializedBytes: try #require(responses[3].fileDescriptorResponse.fileDescriptorProto.first)
        )
        #expect(spdk.service.first?.name == "SPDKService")
        #expect(spdk.package == "spdkrpc")

        #expect(responses[4].errorResponse.errorCode == Int32(Status.Code.notFound.rawValue))
        #expect(responses[5].allExtensionNumbersResponse.baseTypeName == "imrpc.InstanceSpec")
        #expect(responses[5].allExtensionNumbersResponse.extensionNumber.isEmpty)
    }

    @Test func reflectionV1AlphaAnswersLikeV1() async throws {
        let servers = try twoServers()
        let responses = try await withRunning(servers) { ports in
            try await withClient(port: ports[0]) { client in
                let reflection = Grpc_Reflection_V1alpha_ServerReflection.Client(wrapping: client)
                return try await reflection.serverReflectionInfo { writer in
                    var request = Grpc_Reflection_V1alpha_ServerReflectionRequest()
                    request.host = "h"
                    request.listServices = ""
                    try await writer.write(request)
                    request.fileContainingSymbol = "ProcessManagerService.ProcessList"
                    try await writer.write(request)
                } onResponse: { response in
                    var messages: [Grpc_Reflection_V1alpha_ServerReflectionResponse] = []
                    for try await message in response.messages { messages.append(message) }
                    return messages
                }
            }
        }
        try #require(responses.count == 2)
        #expect(responses[0].validHost == "h")
        #expect(responses[0].listServicesResponse.service.map(\.name) == Self.builtIn)
        let file = try Google_Protobuf_FileDescriptorProto(
            serializedBytes: try #require(responses[1].fileDescriptorResponse.fileDescriptorProto.first)
        )
        #expect(file.name == "imrpc.proto")
        #expect(!file.hasPackage)
    }

    @Test func aMethodRegisteredTwiceIsRefused() throws {
        let error = #expect(throws: InstanceManagerServersError.self) {
            try InstanceManagerServers(
                endpoints: [InstanceManagerEndpoint(host: "127.0.0.1", port: 0, services: [HealthService()])],
                reflection: .instanceManager()
            )
        }
        #expect(error?.description.contains("/grpc.health.v1.Health/") == true)
    }

    @Test func badEndpointsAreRefused() throws {
        #expect(throws: InstanceManagerServersError.self) {
            try InstanceManagerServers(endpoints: [], reflection: .instanceManager())
        }
        #expect(throws: InstanceManagerServersError.self) {
            try InstanceManagerServers(
                endpoints: [InstanceManagerEndpoint(host: "127.0.0.1", port: 70000, services: [])],
                reflection: .instanceManager()
            )
        }
    }

    @Test func aShutdownAskedBeforeTheServersBindStillStopsThem() async throws {
        let servers = try twoServers()
        servers.beginGracefulShutdown()
        try await servers.run()
    }

    @Test func consecutiveEndpointsFollowTheListenPort() {
        let endpoints = InstanceManagerEndpoint.consecutive(
            host: "0.0.0.0", fromPort: 8500, services: [[], [], [], [], []])
        #expect(endpoints.map(\.port) == [8500, 8501, 8502, 8503, 8504])
        #expect(InstanceManagerPorts.instanceOffset == 3)
        #expect(InstanceManagerPorts.spdkOffset == 4)
    }

    @Test func versionResponsesReportTheAPIVersions() {
        let build = InstanceManagerBuild(version: "v1", gitCommit: "c", buildDate: "d")
        let version = VersionResponse.instanceManager(build)
        #expect(version.instanceManagerApiversion == 7)
        #expect(version.instanceManagerApiminVersion == 1)
        #expect(version.instanceManagerProxyApiversion == 7)
        #expect(version.instanceManagerProxyApiminVersion == 1)
        #expect(version.gitCommit == "c")
        let disk = Imrpc_DiskVersionResponse.diskService(build)
        #expect(disk.instanceManagerDiskServiceApiversion == 1)
        #expect(disk.instanceManagerDiskServiceApiminVersion == 1)
    }
}
