// Why a setting could not be read or set. Nothing was changed.

public enum SettingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No setting has this name.
    case notFound(name: String)
    /// The value breaks the setting's rules; `reason` says which.
    case invalidValue(name: String, value: String, reason: String)

    public var description: String {
        switch self {
        case .notFound(let name):
            "setting \(name) not found: there is no such setting"
        case .invalidValue(let name, let value, let reason):
            // Longhorn's wording, which clients match on: "<setting> with invalid value ".
            "failed to validate setting \(name) with invalid value \(value): \(reason)"
        }
    }
}
