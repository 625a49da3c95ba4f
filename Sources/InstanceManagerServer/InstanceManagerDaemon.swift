// The instance manager as one unit (`hornbill instance-manager`, or in-process in tests): the V1
// process supervisor, the V2 instances over the node's tgt (when the SPDK data engine is enabled),
// the gRPC services over them, and one server per port (InstanceManagerPorts).
//
// Lifecycle: `run()` stops V1 processes a killed predecessor left (recorded under the data
// directory), rediscovers what the tgt holds and starts the reconcile loop, then serves until
// `shutdown()`. A shutdown ends the open watch and log streams, stops the servers, stops every V1
// process and the reconcile loop; the V2 objects stay in the tgt, as in Longhorn, for the next
// instance manager to find.

import Foundation
public import InstanceManager
import GRPCCore
import Synchronization

public struct InstanceManagerDaemonConfiguration: Sendable {
    /// The address every service listens on, e.g. "0.0.0.0".
    public var listenHost: String
    /// The first port (ProcessManagerService); the others follow (InstanceManagerPorts). 0 in
    /// tests: each server takes a free port (see `InstanceManagerDaemon.listeningPorts()`).
    public var listenPort: Int
    public var spdkEnabled: Bool
    /// V1 process ports.
    public var portRange: ClosedRange<Int>
    /// V2 replica and engine ports.
    public var spdkPortRange: ClosedRange<Int>
    /// The tgt's JSON-RPC socket.
    public var spdkSocket: String
    /// Where process logs and the record of running processes go.
    public var dataDirectory: String
    /// The address replicas and engine targets listen on and report.
    public var ip: String
    public var build: InstanceManagerBuild

    public init(
        listenHost: String, listenPort: Int, spdkEnabled: Bool, portRange: ClosedRange<Int>,
        spdkPortRange: ClosedRange<Int>, spdkSocket: String, dataDirectory: String, ip: String,
        build: InstanceManagerBuild
    ) {
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.spdkEnabled = spdkEnabled
        self.portRange = portRange
        self.spdkPortRange = spdkPortRange
        self.spdkSocket = spdkSocket
        self.dataDirectory = dataDirectory
        self.ip = ip
        self.build = build
    }

    /// The file recording the running V1 processes.
    public var processRecordPath: String { dataDirectory + "/processes" }
    /// Where V1 process logs go.
    public var logDirectory: String { dataDirectory + "/logs" }
}

public final class InstanceManagerDaemon: Sendable {
    public let configuration: InstanceManagerDaemonConfiguration
    public let processes: ProcessSupervisor
    /// Nil when the SPDK data engine is not enabled.
    public let v2: V2Instances?
    /// Ends watch and log streams at shutdown (for every service's streaming calls).
    public let streamShutdown = StreamShutdown()
    private let servers: InstanceManagerServers

    public init(configuration: InstanceManagerDaemonConfiguration) throws {
        self.configuration = configuration
        for directory in [configuration.dataDirectory, configuration.logDirectory] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        processes = ProcessSupervisor(
            options: .init(
                portRange: configuration.portRange, logDirectory: configuration.logDirectory,
                mark: configuration.processRecordPath))
        v2 =
            configuration.spdkEnabled
            ? V2Instances(
                configuration: V2InstancesConfiguration(
                    tgtSocketPath: configuration.spdkSocket, ip: configuration.ip,
                    portRange: configuration.spdkPortRange))
            : nil
        let services = Self.services(
            processes: processes, v2: v2, build: configuration.build, streamShutdown: streamShutdown,
            spdkEnabled: configuration.spdkEnabled)
        let endpoints =
            configuration.listenPort == 0
            ? services.map { InstanceManagerEndpoint(host: configuration.listenHost, port: 0, services: $0) }
            : InstanceManagerEndpoint.consecutive(
                host: configuration.listenHost, fromPort: configuration.listenPort, services: services)
        servers = try InstanceManagerServers(endpoints: endpoints, reflection: .instanceManager())
    }

    /// The services of each port, in port order (InstanceManagerPorts).
    static func services(
        processes: ProcessSupervisor, v2: V2Instances?, build: InstanceManagerBuild, streamShutdown: StreamShutdown,
        spdkEnabled: Bool
    ) -> [[any RegistrableRPCService]] {
        var ports: [[any RegistrableRPCService]] = [
            // InstanceManagerPorts.processManagerOffset
            [ProcessManagerRPCService(supervisor: processes, build: build)],
            // InstanceManagerPorts.proxyOffset
            [ProxyEngineService(instances: v2, supervisor: processes, build: build)],
            // InstanceManagerPorts.diskOffset
            [DiskService(v2: v2, build: build)],
            // InstanceManagerPorts.instanceOffset
            [InstanceService(processes: processes, v2: v2, build: build, shutdown: streamShutdown)],
        ]
        if spdkEnabled, let v2 {
            // InstanceManagerPorts.spdkOffset
            ports.append([SPDKService(instances: v2, build: build)])
        }
        return ports
    }

    /// Serves until `shutdown()`, then stops V1 processes and the reconcile loop. Call once.
    public func run() async throws {
        ProcessSupervisor.stopLeftovers(recordedIn: configuration.processRecordPath)
        await v2?.start()
        let recorder = Task { [processes, configuration] in
            await processes.recordChildren(to: configuration.processRecordPath)
        }
        defer { recorder.cancel() }
        do {
            try await servers.run()
        } catch {
            await stopInstances()
            throw error
        }
        await stopInstances()
    }

    private func stopInstances() async {
        await processes.shutdown()
        await processes.writeChildRecord(to: configuration.processRecordPath)
        await v2?.stop()
    }

    /// The bound port of each server, in port order; waits until each listens.
    public func listeningPorts() async throws -> [Int] {
        try await servers.listeningPorts()
    }

    /// Begins the graceful shutdown `run()` finishes.
    public func shutdown() {
        streamShutdown.close()
        servers.beginGracefulShutdown()
    }
}
