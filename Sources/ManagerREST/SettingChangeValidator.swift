// The check a setting change must pass beyond its value's rules, against the rest of the system
// (`v2-data-engine` cannot be turned off while V2 volumes are attached, …). The settings routes
// call it after the value is validated and before it is written.

public import ManagerModel

public protocol SettingChangeValidator: Sendable {
    /// Throws `SettingChangeRefusal` to refuse the change (the client gets 400 with its reason);
    /// any other error fails the request with 500. `current` and `proposed` are normalized values.
    func validateChange(of definition: SettingDefinition, from current: String, to proposed: String) async throws
}

/// A setting change refused by a `SettingChangeValidator`; `reason` is Longhorn's wording where it
/// has one ("cannot apply v2-data-engine setting to Longhorn workloads when there are attached v2 volumes").
public struct SettingChangeRefusal: Error, Sendable, Equatable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}
