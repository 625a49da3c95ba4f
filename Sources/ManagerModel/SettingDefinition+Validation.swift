// Checking and normalizing a value before it is stored.
//
// A value is trimmed, then checked against the setting's type: booleans become "true"/"false"
// (Go's spellings 1/t/T/TRUE/True and 0/f/F/FALSE/False are accepted), integers are written in
// decimal without sign or leading zeros and must lie in the setting's range, strings must be one of
// the setting's options if it has any. A data-engine-specific setting takes either a plain value,
// which applies to every engine it holds, or a JSON object of strings naming exactly those engines;
// either way it is stored as the canonical JSON object (`{"v1":"3","v2":"3"}`).

import Foundation

extension SettingDefinition {
    /// The normalized value to store for setting `name` set to `value`.
    /// Throws `notFound` for an unknown setting, `invalidValue` for a value it does not accept.
    public static func validate(name: String, value: String) throws(SettingError) -> String {
        try definition(of: name).validate(value)
    }

    /// The normalized value to store for this setting set to `value`.
    public func validate(_ value: String) throws(SettingError) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            return try normalized(trimmed)
        } catch {
            throw .invalidValue(name: name, value: trimmed, reason: error.reason)
        }
    }

    /// The per-engine values of a stored data-engine-specific value (nil if it is not one).
    public func engineValues(of stored: String) -> [DataEngine: String]? {
        guard let dataEngines, let values = try? Self.parseEngineObject(stored) else { return nil }
        guard Set(values.keys) == Set(dataEngines.map(\.rawValue)) else { return nil }
        return Dictionary(
            uniqueKeysWithValues: dataEngines.compactMap { engine in values[engine.rawValue].map { (engine, $0) } })
    }

    /// The canonical JSON object of per-engine values: keys sorted, no spaces.
    public static func perEngineJSON(_ values: [DataEngine: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let byName = Dictionary(uniqueKeysWithValues: values.map { ($0.key.rawValue, $0.value) })
        // Encoding a dictionary of strings cannot fail.
        guard let data = try? encoder.encode(byName) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    private func normalized(_ value: String) throws(ValueRejection) -> String {
        if readOnly { throw ValueRejection("the setting is read-only") }
        if value.isEmpty {
            if required { throw ValueRejection("the setting requires a value") }
            return value
        }
        guard let dataEngines else { return try normalizedSingle(value) }
        guard value.hasPrefix("{") else {
            let single = try normalizedSingle(value)
            return Self.perEngineJSON(Dictionary(uniqueKeysWithValues: dataEngines.map { ($0, single) }))
        }
        let given = try Self.parseEngineObject(value)
        let held = dataEngines.map(\.rawValue)
        for engine in given.keys.sorted() where !held.contains(engine) {
            throw ValueRejection(
                "data engine \(engine) is not supported by this setting (it holds \(held.joined(separator: ", ")))")
        }
        let missing = held.filter { given[$0] == nil }
        if !missing.isEmpty {
            throw ValueRejection(
                "a value per data engine must name every engine the setting holds: missing \(missing.joined(separator: ", "))"
            )
        }
        var normalizedValues: [DataEngine: String] = [:]
        for engine in dataEngines {
            do {
                normalizedValues[engine] = try normalizedSingle(
                    (given[engine.rawValue] ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
            } catch {
                throw ValueRejection("data engine \(engine.rawValue): \(error.reason)")
            }
        }
        return Self.perEngineJSON(normalizedValues)
    }

    private func normalizedSingle(_ value: String) throws(ValueRejection) -> String {
        if value.isEmpty { throw ValueRejection("the setting requires a value") }
        let normalized: String
        switch type {
        case .bool:
            switch value {
            case "true", "True", "TRUE", "t", "T", "1": normalized = "true"
            case "false", "False", "FALSE", "f", "F", "0": normalized = "false"
            default: throw ValueRejection("\(value) is not a boolean: use true or false")
            }
        case .int:
            guard let number = Int64(value) else { throw ValueRejection("\(value) is not an integer") }
            if let minimum = intRange?.minimum, number < minimum {
                throw ValueRejection("value \(number) should be larger than or equal to \(minimum)")
            }
            if let maximum = intRange?.maximum, number > maximum {
                throw ValueRejection("value \(number) should be less than or equal to \(maximum)")
            }
            normalized = String(number)
        case .float:
            guard let number = Double(value), number.isFinite else {
                throw ValueRejection("\(value) is not a number")
            }
            if let minimum = floatRange?.minimum, number < minimum {
                throw ValueRejection("value \(value) should be larger than or equal to \(minimum)")
            }
            if let maximum = floatRange?.maximum, number > maximum {
                throw ValueRejection("value \(value) should be less than or equal to \(maximum)")
            }
            normalized = value
        case .string:
            if stringFormat == .absolutePath, !value.hasPrefix("/") || value.contains("\0") {
                throw ValueRejection("\(value) is not an absolute path")
            }
            normalized = value
        case .deprecated:
            normalized = value
        }
        if !options.isEmpty, !options.contains(normalized) {
            throw ValueRejection("\(normalized) is not one of the options \(options.joined(separator: ", "))")
        }
        return normalized
    }

    /// A JSON object whose members are all strings.
    private static func parseEngineObject(_ value: String) throws(ValueRejection) -> [String: String] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(value.utf8))
        } catch {
            throw ValueRejection("\(value) is not a JSON object of values per data engine")
        }
        guard let members = object as? [String: Any] else {
            throw ValueRejection("\(value) is not a JSON object of values per data engine")
        }
        var values: [String: String] = [:]
        for (engine, member) in members {
            guard let text = member as? String else {
                throw ValueRejection("the value for data engine \(engine) must be a JSON string")
            }
            values[engine] = text
        }
        return values
    }
}

/// Why a value was refused, before it is named with its setting.
private struct ValueRejection: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
