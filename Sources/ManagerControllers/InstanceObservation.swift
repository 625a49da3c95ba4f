// How an instance manager's answer about one instance becomes the resource's status
// (longhorn-api.md §3.3, §7): the state string mapped the way Longhorn's manager maps it
// (`running`, `suspended`, `stopped`, `starting`, `stopping` kept, anything else `error`), the
// address the instance listens on (the node's storage address and `port_start`), its UUID and
// the instance manager that runs it. A stopped instance keeps no address.

public import Foundation
import InstanceManagerAPI
public import ManagerModel

/// The InstanceCreation condition (Longhorn's) and the reasons the handler gives it.
public enum InstanceCondition {
    public static let instanceCreation = "InstanceCreation"
    /// The instance manager refused or could not create the instance, or it failed after.
    public static let creationFailure = "InstanceCreationFailure"
    /// The instance manager of the instance's data engine did not answer.
    public static let instanceManagerUnreachable = "InstanceManagerUnreachable"
    /// What the instance needs is not there yet (a V2 replica's disk): it is created later.
    public static let waiting = "InstanceCreationWaiting"
}

enum InstanceObservation {
    /// The instance manager's state string as an instance state.
    static func state(_ text: String) -> InstanceState {
        switch text {
        case "running": .running
        case "suspended": .suspended
        case "stopped": .stopped
        case "starting": .starting
        case "stopping": .stopping
        default: .error
        }
    }

    /// States that change by themselves soon (the instance is being started or stopped).
    static func isTransitional(_ text: String) -> Bool {
        ["starting", "stopping", "pending", "terminating"].contains(text)
    }

    /// Writes what the instance manager reports of a present instance into `status`.
    static func apply(
        _ response: Imrpc_InstanceResponse, to status: inout InstanceStatus, instanceManagerName: String,
        nodeName: String, address: String, image: String, now: Date
    ) {
        let state = state(response.status.state)
        status.ownerID = nodeName
        status.instanceManagerName = instanceManagerName
        status.currentState = state
        status.starting = state == .starting
        if state == .stopped {
            clearAddress(&status)
        } else {
            status.ip = address
            status.storageIP = address
            status.port = Int(response.status.portStart)
            status.uuid = response.status.uuid
            status.currentImage = image
        }
        if state == .running {
            status.started = true
            status.conditions.setCondition(InstanceCondition.instanceCreation, status: .isTrue, now: now)
        } else if state == .error {
            let message =
                response.status.errorMsg.isEmpty
                ? "the instance manager reports the instance in state \(response.status.state)"
                : response.status.errorMsg
            status.conditions.setCondition(
                InstanceCondition.instanceCreation, status: .isFalse, reason: InstanceCondition.creationFailure,
                message: message, now: now)
        }
    }

    /// A stopped instance: no address, not starting, not started.
    static func markStopped(_ status: inout InstanceStatus) {
        status.currentState = .stopped
        status.starting = false
        status.started = false
        clearAddress(&status)
    }

    static func clearAddress(_ status: inout InstanceStatus) {
        status.ip = ""
        status.storageIP = ""
        status.port = 0
        status.uuid = ""
        status.currentImage = ""
    }

    /// The instance manager did not answer: the state is not known.
    static func markUnreachable(_ status: inout InstanceStatus, message: String, now: Date) {
        status.currentState = .unknown
        status.conditions.setCondition(
            InstanceCondition.instanceCreation, status: .isFalse, reason: InstanceCondition.instanceManagerUnreachable,
            message: message, now: now)
    }

    /// The instance cannot be created as asked (or its instance manager refused): `error`, saying why.
    static func markFailed(_ status: inout InstanceStatus, message: String, now: Date) {
        status.currentState = .error
        status.starting = false
        status.conditions.setCondition(
            InstanceCondition.instanceCreation, status: .isFalse, reason: InstanceCondition.creationFailure,
            message: message, now: now)
    }

    /// Being started, not created yet, and not failed: what it needs is not there yet
    /// (InstanceCreateWait). A failure recorded before stays for the volume controller to see.
    static func markWaiting(_ status: inout InstanceStatus, message: String, now: Date) {
        guard status.currentState != .error else { return }
        status.currentState = .starting
        status.starting = true
        status.conditions.setCondition(
            InstanceCondition.instanceCreation, status: .isFalse, reason: InstanceCondition.waiting, message: message,
            now: now)
    }

    /// An answer came after the instance manager was unreachable: that condition no longer holds.
    static func clearUnreachable(_ status: inout InstanceStatus, now: Date) {
        guard
            let condition = status.conditions.condition(ofType: InstanceCondition.instanceCreation),
            condition.reason == InstanceCondition.instanceManagerUnreachable
        else { return }
        status.conditions.setCondition(InstanceCondition.instanceCreation, status: .isTrue, now: now)
    }
}
