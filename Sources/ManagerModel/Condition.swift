// A condition of a resource (Kubernetes' shape): stored as a list, at most one per type.
// `lastTransitionTime` records when `status` last changed: setting a condition to the status it
// already has updates its reason and message but keeps that time.

public import Foundation

/// `True`, `False` or `Unknown`.
public enum ConditionStatus: String, LonghornEnum {
    case isTrue = "True"
    case isFalse = "False"
    case unknown = "Unknown"
    public static var zero: ConditionStatus { .unknown }
}

/// One condition: its type (`Ready`, `Schedulable`, `InstanceCreation`, …), status, a CamelCase
/// reason, a message, and RFC 3339 times.
public struct Condition: Codable, Sendable, Equatable {
    public var type: String
    public var status: ConditionStatus
    public var lastProbeTime: String
    public var lastTransitionTime: String
    public var reason: String
    public var message: String

    public init(
        type: String, status: ConditionStatus, reason: String = "", message: String = "",
        lastProbeTime: String = "", lastTransitionTime: String = ""
    ) {
        self.type = type
        self.status = status
        self.lastProbeTime = lastProbeTime
        self.lastTransitionTime = lastTransitionTime
        self.reason = reason
        self.message = message
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.lenient(.type)
        status = try c.lenient(.status)
        lastProbeTime = try c.lenient(.lastProbeTime)
        lastTransitionTime = try c.lenient(.lastTransitionTime)
        reason = try c.lenient(.reason)
        message = try c.lenient(.message)
    }
}

extension Array where Element == Condition {
    /// The condition of `type`, if there is one.
    public func condition(ofType type: String) -> Condition? {
        first { $0.type == type }
    }

    /// Whether the condition of `type` exists and is `True`.
    public func isTrue(_ type: String) -> Bool {
        condition(ofType: type)?.status == .isTrue
    }

    /// Sets the condition of `type`, adding it if missing. `lastTransitionTime` becomes `now` only
    /// when the condition is new or its status changes. Returns whether anything changed.
    @discardableResult
    public mutating func setCondition(
        _ type: String, status: ConditionStatus, reason: String = "", message: String = "", now: Date
    ) -> Bool {
        let timestamp = KubernetesTime.format(now)
        guard let index = firstIndex(where: { $0.type == type }) else {
            append(
                Condition(type: type, status: status, reason: reason, message: message, lastTransitionTime: timestamp))
            return true
        }
        var condition = self[index]
        if condition.status != status {
            condition.status = status
            condition.lastTransitionTime = timestamp
        }
        condition.reason = reason
        condition.message = message
        guard condition != self[index] else { return false }
        self[index] = condition
        return true
    }
}

/// Kubernetes' time format: RFC 3339 in UTC with whole seconds ("2026-12-07T07:17:02Z").
public enum KubernetesTime {
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(secondsFromGMT: 0) ?? .gmt))
    }

    /// Parses an RFC 3339 time with or without fractional seconds; nil if it is not one.
    public static func parse(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        return try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }
}
