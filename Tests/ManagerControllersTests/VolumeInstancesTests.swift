import Foundation
import ManagerControllers
import ManagerModel
import ManagerStore
import TestSupport
import Testing

/// A volume through every controller a node's manager runs (node, instance managers, volumes,
/// instances) over a real instance manager: created, attached until its NBD endpoint serves,
/// detached, deleted.
@Suite(.serialized, .timeLimit(.minutes(3))) struct VolumeInstancesTests {
    @Test func aV1VolumeIsAttachedServedDetachedAndDeleted() async throws {
        let node = try InstanceTestNode()
        let store = node.scratch.store
        let nodeControllers = NodeControllers(
            store: store, nodeName: "node-1", address: "127.0.0.1", dataDirectory: node.scratch.dataDirectory,
            instanceManagers: InstanceManagerAddresses(v1: node.address, v2: node.address), options: fastLoop)
        let volumeControllers = VolumeControllers(store: store, nodeName: "node-1", options: fastLoop)
        let request = try JSONDecoder().decode(
            VolumeCreateRequest.self, from: Data(#"{"name":"e2e","size":"16Mi","frontend":"nbd","numberOfReplicas":1}"#.utf8))
        let volume = try VolumeCreation.volume(
            from: request, context: VolumeCreationContext(v2DataEngineEnabled: false, defaultReplicaCount: [.v1: 1, .v2: 1]))
        _ = try await store.create(volume, name: "e2e")
        _ = try await store.create(
            VolumeAttachment(metadata: ResourceMetadata(name: "e2e"), spec: VolumeAttachmentSpec(volume: "e2e")), name: "e2e")

        let others = [Task { await nodeControllers.run() }, Task { await volumeControllers.run() }]
        defer { for task in others { task.cancel() } }
        try await node.whileRunning {
            _ = try await node.waitFor(Volume.self, "e2e", "detached with a scheduled replica") { volume in
                volume.status.state == .detached
            }
            try await node.change(VolumeAttachment.self, "e2e") {
                $0.spec.attachmentTickets = ["t1": AttachmentTicket(id: "t1", type: "longhorn-api", nodeID: "node-1")]
            }
            let attached: Volume
            do {
                attached = try await node.waitFor(Volume.self, "e2e", "attached") { $0.status.state == .attached }
            } catch {
                let replicas = try await store.list(Replica.self).items.map { "\($0.value.spec) \($0.value.status)" }
                let engine = try await node.get(Engine.self, "e2e-e-0").map { "\($0.spec) \($0.status)" } ?? "none"
                throw ControllerTestError("not attached; replicas \(replicas); engine \(engine); log \(node.manager?.log.suffix(6000) ?? "")")
            }
            #expect(attached.status.currentNodeID == "node-1")
            let engine = try #require(try await node.get(Engine.self, "e2e-e-0"))
            #expect(engine.status.endpoint.hasPrefix("nbd://127.0.0.1:"), "\(engine.status.endpoint)")
            #expect(try await nbdSize(engine.status.endpoint) == 16 << 20)
            let replicas = try await store.list(Replica.self).items.map(\.value)
            #expect(replicas.count == 1 && replicas.allSatisfy { $0.status.currentState == .running })
            let directory = try #require(replicas.first.map { "\($0.spec.diskPath)/replicas/\($0.spec.dataDirectoryName)" })
            #expect(FileManager.default.fileExists(atPath: directory))

            try await node.change(VolumeAttachment.self, "e2e") { $0.spec.attachmentTickets = [:] }
            _ = try await node.waitFor(Volume.self, "e2e", "detached") { $0.status.state == .detached }
            #expect(try await node.get(Engine.self, "e2e-e-0")?.status.currentState == .stopped)
            #expect(!canConnect(port: engine.status.port))

            try await node.change(Volume.self, "e2e") { askDeletion(&$0.metadata) }
            try await node.waitForDeletion(Volume.self, "e2e")
            let leftReplicas = try await store.list(Replica.self).items
            let leftEngines = try await store.list(Engine.self).items
            #expect(leftReplicas.isEmpty && leftEngines.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: directory))
        }
        for task in others {
            task.cancel()
            await task.value
        }
    }
}
