// One disk's status from one check: Ready from the disk itself (FilesystemDisk or the V2 disk
// service), the replicas scheduled on it (those whose `spec.diskID` is its UUID), and Schedulable
// from Longhorn's rule for an empty replica: the disk is ready, scheduling is allowed on it and on
// the node, more than `storage-minimal-available-percentage` of it is available, and what is
// scheduled fits in (maximum - reserved) × `storage-over-provisioning-percentage`.
//
// Condition reasons are Longhorn's: NoDiskInfo (no information yet or a call failed),
// DiskFilesystemChanged (the disk is not the one recorded), DiskNotReady, DiskServiceUnreachable,
// DiskPressure.

import Foundation
import InstanceManagerAPI
import ManagerModel

/// What every disk check of one reconcile shares.
struct DiskInputs: Sendable {
    var nodeName: String
    var v2Enabled: Bool
    var minimalAvailablePercentage: Int64
    var overProvisioningPercentage: Int64
    /// Every replica's placement, by name.
    var replicas: [String: ReplicaPlacements.Placement]
    var instanceManagers: InstanceManagerAddresses
    var instanceManagerNames: [DataEngine: String]
    var now: Date
}

/// Disk condition reasons.
enum DiskConditionReason {
    static let noDiskInfo = "NoDiskInfo"
    static let diskFilesystemChanged = "DiskFilesystemChanged"
    static let diskNotReady = "DiskNotReady"
    static let diskServiceUnreachable = "DiskServiceUnreachable"
    static let diskPressure = "DiskPressure"
    static let schedulingDisabled = "SchedulingDisabled"
}

enum DiskCheck {
    /// The disk's new status, and whether it is still being created.
    static func status(
        of name: String, spec: DiskSpec, node: NodeSpec, previous: DiskStatus?, inputs: DiskInputs
    ) async -> (status: DiskStatus, pending: Bool) {
        var status = previous ?? DiskStatus()
        if status.diskType != spec.diskType { status = DiskStatus() }
        status.diskType = spec.diskType
        status.diskPath = spec.path
        var pending = false
        let ready: (ConditionStatus, reason: String, message: String)
        switch spec.diskType {
        case .filesystem:
            ready = checkFilesystem(name, spec, &status, inputs)
        case .block:
            let checked = await checkBlock(name, spec, &status, inputs)
            ready = checked.ready
            pending = checked.pending
        }
        status.conditions.setCondition(
            DiskConditionType.ready, status: ready.0, reason: ready.reason, message: ready.message, now: inputs.now)
        addScheduledReplicas(&status, inputs.replicas)
        let schedulable = schedulability(name, spec, node, status, inputs)
        status.conditions.setCondition(
            DiskConditionType.schedulable, status: schedulable.0, reason: schedulable.reason,
            message: schedulable.message, now: inputs.now)
        return (status, pending)
    }

    private static func checkFilesystem(
        _ name: String, _ spec: DiskSpec, _ status: inout DiskStatus, _ inputs: DiskInputs
    ) -> (ConditionStatus, reason: String, message: String) {
        status.diskName = name
        status.diskDriver = .unset
        status.instanceManagerName = inputs.instanceManagerNames[.v1] ?? ""
        do {
            let info = try FilesystemDisk.check(name: name, path: spec.path, recordedUUID: status.diskUUID)
            status.diskUUID = info.diskUUID
            status.storageMaximum = info.storageMaximum
            status.storageAvailable = info.storageAvailable
            status.filesystemType = info.filesystemType
            return (.isTrue, "", "")
        } catch {
            let reason =
                error.reason == .filesystemChanged
                ? DiskConditionReason.diskFilesystemChanged : DiskConditionReason.noDiskInfo
            return (
                .isFalse, reason, "Disk \(name)(\(spec.path)) on node \(inputs.nodeName) is not ready: \(error.message)"
            )
        }
    }

    private static func checkBlock(
        _ name: String, _ spec: DiskSpec, _ status: inout DiskStatus, _ inputs: DiskInputs
    ) async -> (ready: (ConditionStatus, reason: String, message: String), pending: Bool) {
        status.filesystemType = ""
        status.instanceManagerName = inputs.instanceManagerNames[.v2] ?? ""
        let prefix = "Disk \(name)(\(spec.path)) on node \(inputs.nodeName) is not ready"
        guard inputs.v2Enabled else {
            return (
                (
                    .isFalse, DiskConditionReason.diskNotReady,
                    "\(prefix): block disks need the V2 data engine, and the setting v2-data-engine is false"
                ),
                false
            )
        }
        guard let address = inputs.instanceManagers.v2 else {
            return (
                (
                    .isFalse, DiskConditionReason.diskServiceUnreachable,
                    "\(prefix): this node runs no V2 instance manager"
                ),
                false
            )
        }
        switch await BlockDiskService(address: address).observe(name: name, spec: spec, recordedUUID: status.diskUUID) {
        case .ready(let disk):
            if !status.diskUUID.isEmpty && disk.uuid != status.diskUUID {
                return (
                    (
                        .isFalse, DiskConditionReason.diskFilesystemChanged,
                        "\(prefix): the disk service reports lvstore UUID \(disk.uuid), not the recorded \(status.diskUUID)"
                    ),
                    false
                )
            }
            status.diskUUID = disk.uuid
            status.diskName = disk.name.isEmpty ? name : disk.name
            status.diskDriver = DiskDriver(rawValue: disk.driver) ?? .unset
            status.storageMaximum = disk.totalSize
            status.storageAvailable = disk.freeSize
            return ((.isTrue, "", ""), false)
        case .pending:
            return ((.isFalse, DiskConditionReason.noDiskInfo, "\(prefix): disk is not in ready state"), true)
        case .failed(let message):
            return ((.isFalse, DiskConditionReason.diskNotReady, "\(prefix): \(message)"), false)
        case .unreachable(let message):
            return ((.isFalse, DiskConditionReason.diskServiceUnreachable, "\(prefix): \(message)"), false)
        case .callFailed(let message):
            return ((.isFalse, DiskConditionReason.noDiskInfo, "\(prefix): \(message)"), false)
        }
    }

    private static func addScheduledReplicas(
        _ status: inout DiskStatus, _ replicas: [String: ReplicaPlacements.Placement]
    ) {
        var scheduled: [String: Int64] = [:]
        if !status.diskUUID.isEmpty {
            for (name, placement) in replicas where placement.diskID == status.diskUUID {
                scheduled[name] = placement.size
            }
        }
        status.scheduledReplica = scheduled
        status.storageScheduled = scheduled.values.reduce(0) { $0 &+ $1 }
    }

    private static func schedulability(
        _ name: String, _ spec: DiskSpec, _ node: NodeSpec, _ status: DiskStatus, _ inputs: DiskInputs
    ) -> (ConditionStatus, reason: String, message: String) {
        guard status.conditions.isTrue(DiskConditionType.ready) else {
            return (
                .isFalse, DiskConditionReason.diskNotReady,
                "Disk \(name)(\(spec.path)) on node \(inputs.nodeName) is not ready"
            )
        }
        guard spec.allowScheduling, node.allowScheduling else {
            let which = spec.allowScheduling ? "node \(inputs.nodeName)" : "disk \(name)(\(spec.path))"
            return (.isFalse, DiskConditionReason.schedulingDisabled, "scheduling is disabled on \(which)")
        }
        let minimal = status.storageMaximum / 100 * inputs.minimalAvailablePercentage
        let schedulableBytes = (status.storageMaximum - spec.storageReserved) / 100 * inputs.overProvisioningPercentage
        guard status.storageMaximum > 0, status.storageAvailable > 0, status.storageAvailable > minimal,
            status.storageScheduled <= schedulableBytes
        else {
            return (
                .isFalse, DiskConditionReason.diskPressure,
                "Disk \(name)(\(spec.path)) on node \(inputs.nodeName) has \(status.storageAvailable) available, but "
                    + "requires reserved \(spec.storageReserved), minimal \(inputs.minimalAvailablePercentage)% to "
                    + "schedule more replicas"
            )
        }
        return (.isTrue, "", "")
    }
}

