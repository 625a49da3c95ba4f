// Why a replica could not be placed: Longhorn's reason strings (node.go's constants, which users
// and tools match on), each with what this scheduler saw. The volume's `Scheduled` condition
// carries `message`, reason `ReplicaSchedulingFailure`.

/// One of Longhorn's replica-scheduling reasons.
public enum SchedulingReason: String, Sendable, Comparable, CaseIterable {
    case insufficientStorage = "insufficient storage"
    case diskNotFound = "disk not found"
    case disksUnavailable = "disks are unavailable"
    case tagsNotFulfilled = "tags not fulfilled"
    case nodeNotFound = "node not found"
    case nodesUnavailable = "nodes are unavailable"
    case engineImageNotReady = "none of the node candidates contains a ready engine image"
    case hardAffinityNotSatisfied = "hard affinity cannot be satisfied"
    case schedulingFailed = "replica scheduling failed"

    public static func < (lhs: SchedulingReason, rhs: SchedulingReason) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A replica that cannot be placed now: each reason once, with what was seen.
public struct SchedulingFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// Reason → details (sorted, each once).
    public private(set) var details: [SchedulingReason: [String]] = [:]

    public init() {}

    public init(_ reason: SchedulingReason, _ detail: String) {
        add(reason, detail)
    }

    public mutating func add(_ reason: SchedulingReason, _ detail: String) {
        var known = details[reason] ?? []
        if !known.contains(detail) {
            known.append(detail)
            known.sort()
        }
        details[reason] = known
    }

    public mutating func merge(_ other: SchedulingFailure) {
        for (reason, list) in other.details { for detail in list { add(reason, detail) } }
    }

    public var reasons: [SchedulingReason] { details.keys.sorted() }
    public var isEmpty: Bool { details.isEmpty }

    /// `reason (detail; detail); reason (…)`: Longhorn's strings first, so they still match.
    public var message: String {
        reasons.map { reason in
            let list = details[reason] ?? []
            return list.isEmpty ? reason.rawValue : "\(reason.rawValue) (\(list.joined(separator: "; ")))"
        }.joined(separator: "; ")
    }

    public var description: String { message }
}
