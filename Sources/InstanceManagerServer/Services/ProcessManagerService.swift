// The V1 process manager (longhorn-api.md §3.7), served on the listen port: Longhorn's
// ProcessManagerService (package-less, paths /ProcessManagerService/<method>) over the
// ProcessSupervisor. ProcessWatch sends the ProcessResponse of every process that changed (a
// removed one with `deleted` set), ProcessLog the captured lines and then new ones while the
// process's output lasts.

public import GRPCCore
public import InstanceManager
public import InstanceManagerAPI
public import SwiftProtobuf

public struct ProcessManagerRPCService: ProcessManagerService.SimpleServiceProtocol {
    public let supervisor: ProcessSupervisor
    public let build: InstanceManagerBuild

    public init(supervisor: ProcessSupervisor, build: InstanceManagerBuild) {
        self.supervisor = supervisor
        self.build = build
    }

    public func processCreate(
        request: ProcessCreateRequest, context: ServerContext
    ) async throws -> InstanceManagerAPI.ProcessResponse {
        try await withRPCErrors {
            guard request.hasSpec else { throw InstanceManagerError.invalidArgument("process spec is required") }
            return InstanceManagerAPI.ProcessResponse(supervised: try await supervisor.create(request.spec.supervised))
        }
    }

    public func processDelete(
        request: ProcessDeleteRequest, context: ServerContext
    ) async throws -> InstanceManagerAPI.ProcessResponse {
        try await withRPCErrors {
            try Self.requireName(request.name)
            return InstanceManagerAPI.ProcessResponse(
                supervised: try await supervisor.delete(name: request.name, uuid: request.uuid))
        }
    }

    public func processGet(
        request: ProcessGetRequest, context: ServerContext
    ) async throws -> InstanceManagerAPI.ProcessResponse {
        try await withRPCErrors {
            try Self.requireName(request.name)
            return InstanceManagerAPI.ProcessResponse(supervised: try await supervisor.get(name: request.name))
        }
    }

    public func processList(request: ProcessListRequest, context: ServerContext) async throws -> ProcessListResponse {
        try await withRPCErrors {
            var response = ProcessListResponse()
            response.processes = await supervisor.list().mapValues(InstanceManagerAPI.ProcessResponse.init(supervised:))
            return response
        }
    }

    public func processLog(
        request: LogRequest, response: RPCWriter<LogResponse>, context: ServerContext
    ) async throws {
        try await withRPCErrors {
            try Self.requireName(request.name)
            let lines = try await supervisor.log(name: request.name)
            try await untilRPCCancelled {
                for await line in lines {
                    var message = LogResponse()
                    message.line = line
                    try await response.write(message)
                }
            }
        }
    }

    public func processWatch(
        request: Google_Protobuf_Empty, response: RPCWriter<InstanceManagerAPI.ProcessResponse>,
        context: ServerContext
    ) async throws {
        try await withRPCErrors {
            // Subscribed before the first listing, so no change between the two is missed.
            let changes = supervisor.changes.subscribe()
            let supervisor = supervisor
            try await untilRPCCancelled {
                var known = await supervisor.list()
                for await _ in changes {
                    let current = await supervisor.list()
                    for (name, process) in current.sorted(by: { $0.key < $1.key }) where known[name] != process {
                        try await response.write(InstanceManagerAPI.ProcessResponse(supervised: process))
                    }
                    for (name, process) in known.sorted(by: { $0.key < $1.key }) where current[name] == nil {
                        var gone = process
                        gone.deleted = true
                        try await response.write(InstanceManagerAPI.ProcessResponse(supervised: gone))
                    }
                    known = current
                }
            }
        }
    }

    public func processReplace(
        request: ProcessReplaceRequest, context: ServerContext
    ) async throws -> InstanceManagerAPI.ProcessResponse {
        try await withRPCErrors {
            guard request.hasSpec else { throw InstanceManagerError.invalidArgument("process spec is required") }
            return InstanceManagerAPI.ProcessResponse(
                supervised: try await supervisor.replace(
                    request.spec.supervised, terminateSignal: request.terminateSignal))
        }
    }

    public func versionGet(request: Google_Protobuf_Empty, context: ServerContext) async throws -> VersionResponse {
        VersionResponse.instanceManager(build)
    }

    private static func requireName(_ name: String) throws(InstanceManagerError) {
        guard !name.isEmpty else { throw .invalidArgument("process name is required") }
    }
}
