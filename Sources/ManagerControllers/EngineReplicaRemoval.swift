// A replica taken out of a running engine (longhorn-api.md §3.5 ReplicaRemove, §4.4 "Engine
// replica remove"), the way Longhorn's engine controller does it: the volume controller takes a
// failed replica out of the engine's `spec.replicaAddressMap`; the engine's instance handler,
// each time it reads the running engine through the proxy, removes from it every replica the
// engine has that the spec no longer names (ReplicaRemove: V1, the controller drops its link;
// V2, the RAID1 leg goes and a replica of this node is exposed again), and only then drops it
// from `status.currentReplicaAddressMap` and `replicaModeMap`. The volume controller stops a
// failed replica once the running engine no longer has it (a V2 replica whose lvol is an
// engine's RAID base refuses to stop before).
//
// Level-triggered and idempotent: a replica the engine no longer has is already removed (the
// proxy's NotFound), so a handler killed between the removal and the status write removes
// nothing twice and writes the status the next time. A running engine keeps at least one
// replica: when the spec names none of those it has (every replica failed), nothing is removed
// and the volume is faulted until it is detached.

import InstanceManagerAPI
import ManagerModel

/// One replica a running engine reports.
struct EngineLeg: Equatable {
    /// The replica's name, when the engine or the status' address map tells it.
    var name: String?
    /// "ip:port".
    var address: String
    var mode: ReplicaMode
}

extension Engine {
    /// The engine's replicas as the proxy lists them, named by the engine (V2) or by their address
    /// in `status.currentReplicaAddressMap` (V1).
    func legs(_ replicas: [Ptypes_ControllerReplica]) -> [EngineLeg] {
        var byAddress: [String: String] = [:]
        for (name, address) in status.currentReplicaAddressMap { byAddress[address] = name }
        return replicas.map { replica in
            let address = replica.address.address
            let bare = address.hasPrefix("tcp://") ? String(address.dropFirst("tcp://".count)) : address
            let name = replica.address.instanceName.isEmpty ? byAddress[bare] : replica.address.instanceName
            let mode: ReplicaMode =
                switch replica.mode {
                case .rw: .readWrite
                case .wo: .writeOnly
                default: .error
                }
            return EngineLeg(name: name, address: bare, mode: mode)
        }
    }

    /// A leg the spec no longer names (by name, or by address when the leg has no name).
    func isNotInSpec(_ leg: EngineLeg) -> Bool {
        if let name = leg.name { return spec.replicaAddressMap[name] == nil }
        return !spec.replicaAddressMap.values.contains(leg.address)
    }

    /// Removes every leg the spec no longer names from the running engine (unless that would
    /// leave it none); `status.currentReplicaAddressMap` keeps what the spec names and what could
    /// not be removed. The legs the engine still has; `complete` false when a removal failed.
    mutating func removeReplicasNotInSpec(
        _ legs: [EngineLeg], client: InstanceServiceClient, engineAddress: String
    ) async -> (remaining: [EngineLeg], complete: Bool) {
        let extras = legs.filter { isNotInSpec($0) }
        guard !extras.isEmpty, extras.count < legs.count else {
            dropUnheldFromCurrentMap(still: legs)
            return (legs, true)
        }
        var remaining = legs.filter { !isNotInSpec($0) }
        var complete = true
        for leg in extras {
            do {
                try await client.engineReplicaRemove(
                    engineName: metadata.name, volumeName: spec.volumeName, dataEngine: spec.dataEngine,
                    engineAddress: engineAddress, replicaName: leg.name ?? "", replicaAddress: leg.address)
            } catch {
                remaining.append(leg)
                complete = false
            }
        }
        dropUnheldFromCurrentMap(still: remaining)
        return (remaining, complete)
    }

    /// Keeps in `status.currentReplicaAddressMap` the replicas the spec names and those the
    /// engine still has.
    private mutating func dropUnheldFromCurrentMap(still legs: [EngineLeg]) {
        let held = Set(legs.compactMap(\.name))
        status.currentReplicaAddressMap = status.currentReplicaAddressMap.filter { name, _ in
            spec.replicaAddressMap[name] != nil || held.contains(name)
        }
    }
}
