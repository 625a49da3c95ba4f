// The process manager service over a real ProcessSupervisor running real children: create, get,
// list, log, watch, replace and delete through a gRPC client, and the error contracts.

import Foundation
import GRPCCore
import InstanceManager
import InstanceManagerAPI
import InstanceManagerServer
import SwiftProtobuf
import TestSupport
import Testing

@Suite struct ProcessManagerServiceTests {
    private func makeSupervisor() -> ProcessSupervisor {
        ProcessSupervisor(
            options: .init(portRange: testPortRange(), settleTime: .milliseconds(100), stopGracePeriod: .seconds(5)))
    }

    private func spec(_ name: String, binary: String = "/bin/sh", script: String) -> InstanceManagerAPI.ProcessSpec {
        var spec = InstanceManagerAPI.ProcessSpec()
        spec.name = name
        spec.binary = binary
        spec.args = ["-c", script]
        return spec
    }

    @Test func lifecycleOfARealChild() async throws {
        let supervisor = makeSupervisor()
        let service = ProcessManagerRPCService(supervisor: supervisor, build: testBuild)
        let script = "echo first line; echo second line; exec sleep 60"
        try await withServices([service]) { client in
            let manager = ProcessManagerService.Client(wrapping: client)
            var create = ProcessCreateRequest()
            create.spec = spec("proc-a", script: script)
            let created = try await manager.processCreate(create)
            #expect(created.spec.name == "proc-a" && created.status.state == "starting" && !created.status.uuid.isEmpty)

            var get = ProcessGetRequest()
            get.name = "proc-a"
            let running = try await eventually {
                let process = try await manager.processGet(get)
                return process.status.state == "running" ? process : nil
            }
            #expect(running.status.uuid == created.status.uuid && running.spec.args == ["-c", script])
            #expect(try await manager.processList(ProcessListRequest()).processes.keys.sorted() == ["proc-a"])

            var logRequest = LogRequest()
            logRequest.name = "proc-a"
            let lines = try await manager.processLog(logRequest) { response in
                var lines: [String] = []
                for try await message in response.messages {
                    lines.append(message.line)
                    if lines.count == 2 { break }
                }
                return lines
            }
            #expect(lines == ["first line", "second line"])

            // A replacement with another binary gets a new incarnation under the same name.
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sh") else { return }
            var replace = ProcessReplaceRequest()
            replace.spec = spec("proc-a", binary: "/usr/bin/sh", script: "echo replaced; exec sleep 60")
            replace.terminateSignal = "SIGHUP"
            let replaced = try await manager.processReplace(replace)
            #expect(replaced.spec.binary == "/usr/bin/sh" && replaced.status.state == "running")
            #expect(replaced.status.uuid != created.status.uuid)
            #expect(try await manager.processGet(get).status.uuid == replaced.status.uuid)

            var delete = ProcessDeleteRequest()
            delete.name = "proc-a"
            let deleted = try await manager.processDelete(delete)
            #expect(deleted.deleted && deleted.status.uuid == replaced.status.uuid)
            let gone = try await eventually { () async throws -> RPCError? in
                await rpcError { _ = try await manager.processGet(get) }
            }
            #expect(gone.code == .notFound && gone.message.contains("cannot find"))
        }
        await supervisor.shutdown()
    }

    @Test func watchSendsEachChangedProcess() async throws {
        let supervisor = makeSupervisor()
        let service = ProcessManagerRPCService(supervisor: supervisor, build: testBuild)
        try await withServices([service]) { client in
            let manager = ProcessManagerService.Client(wrapping: client)
            // The client sees the stream once its first message arrives, so the changes are made
            // from a task started before the watch opens.
            let changer = Task {
                try await Task.sleep(for: .milliseconds(300))
                var create = ProcessCreateRequest()
                create.spec = spec("proc-w", script: "exec sleep 60")
                _ = try await manager.processCreate(create)
                var get = ProcessGetRequest()
                get.name = "proc-w"
                _ = try await eventually {
                    try await manager.processGet(get).status.state == "running" ? true : nil
                }
                var delete = ProcessDeleteRequest()
                delete.name = "proc-w"
                _ = try await manager.processDelete(delete)
            }
            let seen = try await manager.processWatch(Google_Protobuf_Empty()) { response in
                var seen: [(String, String, Bool)] = []
                for try await process in response.messages {
                    seen.append((process.spec.name, process.status.state, process.deleted))
                    if process.deleted { break }
                }
                try await changer.value
                return seen.map { "\($0.0) \($0.1)\($0.2 ? " deleted" : "")" }
            }
            // A fast child may already be running when the watch's first message is sent.
            #expect(seen.first == "proc-w starting" || seen.first == "proc-w running")
            #expect(seen.contains("proc-w running"))
            #expect(seen.last?.hasSuffix("deleted") == true && seen.last?.hasPrefix("proc-w") == true)
        }
        await supervisor.shutdown()
    }

    @Test func errorContractsAndVersion() async throws {
        let supervisor = makeSupervisor()
        let service = ProcessManagerRPCService(supervisor: supervisor, build: testBuild)
        try await withServices([service]) { client in
            let manager = ProcessManagerService.Client(wrapping: client)
            var get = ProcessGetRequest()
            get.name = "nothing-here"
            let missing = await rpcError { _ = try await manager.processGet(get) }
            #expect(missing?.code == .notFound && missing?.message.contains("cannot find") == true)
            var logRequest = LogRequest()
            logRequest.name = "nothing-here"
            let noLog = await rpcError { try await manager.processLog(logRequest) { response in for try await _ in response.messages {} } }
            #expect(noLog?.code == .notFound)

            var create = ProcessCreateRequest()
            create.spec = spec("", script: "exec sleep 1")
            let unnamed = await rpcError { _ = try await manager.processCreate(create) }
            #expect(unnamed?.code == .invalidArgument)
            let specless = await rpcError { _ = try await manager.processCreate(ProcessCreateRequest()) }
            #expect(specless?.code == .invalidArgument)
            create.spec = spec("proc-x", script: "exec sleep 1")
            create.spec.portCount = -1
            let badPorts = await rpcError { _ = try await manager.processCreate(create) }
            #expect(badPorts?.code == .invalidArgument)
            #expect(try await manager.processList(ProcessListRequest()).processes.isEmpty)

            let version = try await manager.versionGet(Google_Protobuf_Empty())
            #expect(version.version == testBuild.version && version.instanceManagerApiversion == 7)
            #expect(version.instanceManagerApiminVersion == 1)
        }
        await supervisor.shutdown()
    }
}
