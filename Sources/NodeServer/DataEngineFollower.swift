// Runs the V2 data engine's processes while setting `v2-data-engine` is true. The store is the
// one source of truth and only the manager opens it, so the follower asks the manager's API about
// once a second and acts on what it reads, level-triggered: true → the tgt wanted (with
// `v2-data-engine-hugepage-limit` MiB), then the V2 instance manager once the tgt answers;
// false → the V2 instance manager stopped, then the tgt. While the manager cannot be asked it
// keeps what runs. The memory size is applied when the tgt starts; a change reaches a running tgt
// at its next start.

import Foundation
import JSONRPC
import ManagerClient

public struct DataEngineFollower: Sendable {
    let layout: ServerLayout
    let supervisor: ChildSupervisor
    let client: ManagerClient
    let interval: Duration
    let log: @Sendable (String) -> Void

    /// - Parameter token: the bearer token the manager's API asks for, if any.
    public init(
        layout: ServerLayout, token: String? = nil, supervisor: ChildSupervisor, interval: Duration = .seconds(1),
        log: @escaping @Sendable (String) -> Void
    ) throws(ServerError) {
        self.layout = layout
        self.supervisor = supervisor
        do {
            client = try ManagerClient(server: layout.managerURL, token: token, timeout: 5)
        } catch {
            throw ServerError(error.message)
        }
        self.interval = interval
        self.log = log
    }

    /// What the settings ask for.
    struct Desired: Equatable {
        var enabled: Bool
        var memoryMiB: Int
    }

    /// Follows the setting until cancelled.
    public func run() async {
        var lastFailure: String?
        while !Task.isCancelled {
            do {
                let desired = try await read()
                lastFailure = nil
                await apply(desired)
            } catch {
                // Said once per kind of failure, not every second.
                if lastFailure != error.message { log("cannot read the data engine settings: \(error.message)") }
                lastFailure = error.message
            }
            try? await Task.sleep(for: interval)
        }
    }

    func read() async throws(ManagerClientError) -> Desired {
        let enabled = try await setting("v2-data-engine")
        let memory = try await setting("v2-data-engine-hugepage-limit")
        guard let memoryMiB = Int(memory), memoryMiB >= 0 else {
            throw ManagerClientError("v2-data-engine-hugepage-limit \(memory) is not a size in MiB")
        }
        return Desired(enabled: enabled == "true", memoryMiB: memoryMiB)
    }

    private func setting(_ name: String) async throws(ManagerClientError) -> String {
        let data = try await client.get("/v1/settings/\(name)")
        do {
            return try JSONDecoder().decode(SettingItem.self, from: data).value
        } catch {
            throw ManagerClientError("the manager's answer for \(name) is not a setting: \(error)")
        }
    }

    func apply(_ desired: Desired) async {
        let tgt = ServerLayout.tgtName
        let instanceManager = ServerLayout.v2InstanceManagerName
        if desired.enabled {
            if await !supervisor.isWanted(tgt) {
                log("v2-data-engine is true: starting the tgt (\(desired.memoryMiB) MiB)")
                await supervisor.start(
                    layout.tgt(memoryMiB: desired.memoryMiB, hugePagesReserved: HugePages.reserved() > 0))
            }
            if await !supervisor.isWanted(instanceManager), await tgtAnswers() {
                await supervisor.start(layout.v2InstanceManager)
            }
        } else {
            if await supervisor.isWanted(instanceManager) {
                log("v2-data-engine is false: stopping the V2 instance manager and the tgt")
                await supervisor.stop(instanceManager)
            }
            if await supervisor.isWanted(tgt) { await supervisor.stop(tgt) }
        }
    }

    /// Whether the tgt answers a JSON-RPC call on its socket.
    func tgtAnswers() async -> Bool {
        let client = JSONRPCAsyncClient(path: layout.tgtSocket, defaultTimeout: .seconds(2))
        defer { Task { await client.close() } }
        do {
            _ = try await client.call("spdk_get_version")
            return true
        } catch {
            return false
        }
    }
}
