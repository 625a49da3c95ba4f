// InstanceManagerDaemon in-process, without the SPDK data engine: the ports it serves, V2 requests
// refused, a V1 process through InstanceService, and a shutdown that ends open watches and stops
// the process.

import Foundation
import GRPCCore
import Glibc
import InstanceManagerAPI
import InstanceManagerServer
import Synchronization
import SwiftProtobuf
import Testing

@Suite(.timeLimit(.minutes(1))) struct InstanceManagerDaemonTests {
    @Test func servesV1AndEndsWatchesAtShutdown() async throws {
        let scratch = try ScratchSpace()
        let base = portSlot()
        let daemon = try InstanceManagerDaemon(
            configuration: InstanceManagerDaemonConfiguration(
                listenHost: "127.0.0.1", listenPort: 0, spdkEnabled: false, portRange: (base + 8)...(base + 35),
                spdkPortRange: (base + 36)...(base + 63), spdkSocket: "\(scratch.path)/none.sock",
                dataDirectory: scratch.path, ip: "127.0.0.1",
                build: InstanceManagerBuild(version: "test", gitCommit: "c", buildDate: "d")))
        let running = Task { try await daemon.run() }
        let ports = try await daemon.listeningPorts()
        #expect(ports.count == 4)

        let watchEnded = Counter()
        let pid = try await withClient(port: ports[3]) { client in
            let instances = Imrpc_InstanceService.Client(wrapping: client)
            let version = try await instances.versionGet(Google_Protobuf_Empty())
            #expect(version.version == "test" && version.instanceManagerApiversion == 7)

            var replica = Requests.replica("r-1", disk: "disk-1", diskUUID: "", size: 1 << 20)
            let v2 = await rpcError { _ = try await instances.instanceCreate(replica) }
            #expect(v2?.code == .failedPrecondition)
            replica.spec.dataEngine = .UNRECOGNIZED(3)
            let unknown = await rpcError { _ = try await instances.instanceCreate(replica) }
            #expect(unknown?.code == .invalidArgument)

            let notifications = Counter()
            let watch = Task {
                try await instances.instanceWatch(Google_Protobuf_Empty()) { response in
                    for try await _ in response.messages { notifications.increment() }
                }
                watchEnded.increment()
            }
            try await Task.sleep(for: .milliseconds(300))
            var sleeper = Requests.process("sleeper", type: "replica", binary: "/bin/sleep", args: ["600"])
            sleeper.spec.portCount = 0
            sleeper.spec.portArgs = []
            let created = try await instances.instanceCreate(sleeper)
            #expect(created.spec.type == "replica" && created.spec.dataEngine == .v1)
            _ = try await eventually("a notification of the create") {
                notifications.count > 0 ? true : nil
            }
            let listed = try await instances.instanceList(Google_Protobuf_Empty())
            #expect(listed.instances["sleeper"]?.spec.processInstanceSpec.binary == "/bin/sleep")
            let record = try String(contentsOfFile: "\(scratch.path)/processes", encoding: .utf8)
            #expect(record.contains(" sleeper\n"))
            let pid = try #require(Int32(record.split(separator: " ")[0]))

            daemon.shutdown()
            try await watch.value
            return pid
        }
        #expect(watchEnded.count == 1)
        try await running.value
        #expect(kill(pid, 0) != 0 || (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.contains(") Z ") == true)
        #expect(try String(contentsOfFile: "\(scratch.path)/processes", encoding: .utf8).isEmpty)
    }
}
