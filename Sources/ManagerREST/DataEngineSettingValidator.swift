// The setting-change check for `v1-data-engine` and `v2-data-engine`: a data engine cannot be
// turned off while a volume of it is attached (status.state `attached`, or spec.nodeID set: the
// attachment controller wants it attached somewhere). Longhorn checks its running engine
// instances; the volumes say the same here and are what the store holds. Every other change, and
// turning an engine on, passes.

import Foundation
public import ManagerModel

public struct DataEngineSettingValidator: SettingChangeValidator {
    let store: any ResourceStore

    public init(store: any ResourceStore) {
        self.store = store
    }

    /// The setting that switches each data engine on and off.
    static let engineSettings: [String: DataEngine] = ["v1-data-engine": .v1, "v2-data-engine": .v2]

    public func validateChange(of definition: SettingDefinition, from current: String, to proposed: String) async throws
    {
        guard let engine = Self.engineSettings[definition.name], proposed == "false" else { return }
        let attached = try await attachedVolumes(of: engine)
        guard attached.isEmpty else {
            throw SettingChangeRefusal(
                "cannot apply \(definition.name) setting to Longhorn workloads when there are attached \(engine.rawValue) volumes"
            )
        }
    }

    /// The names of the attached volumes of `engine`, in store order.
    func attachedVolumes(of engine: DataEngine) async throws -> [String] {
        let stored = try await store.list(Volume.kind, selector: .everything)
        var names: [String] = []
        for item in stored.items {
            let volume: Volume
            do {
                volume = try JSONDecoder().decode(Volume.self, from: item.document)
            } catch {
                throw ResourceStoreError.invalid(
                    "volume \"\(item.name)\": the stored document does not decode: \(error)")
            }
            guard volume.spec.dataEngine == engine else { continue }
            if volume.status.state == .attached || !volume.spec.nodeID.isEmpty { names.append(item.name) }
        }
        return names
    }
}
