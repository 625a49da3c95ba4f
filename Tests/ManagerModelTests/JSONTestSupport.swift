import Foundation
import ManagerModel

/// Encodes and decodes back.
func roundTrip<Value: Codable>(_ value: Value) throws -> Value {
    try JSONDecoder().decode(Value.self, from: JSONEncoder().encode(value))
}

func decode<Value: Decodable>(_ type: Value.Type, _ json: String) throws -> Value {
    try JSONDecoder().decode(type, from: Data(json.utf8))
}

/// The encoded value as a JSON object, to look at its keys and raw values.
func jsonObject<Value: Encodable>(_ value: Value) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(value))
    guard let dictionary = object as? [String: Any] else { throw JSONShapeError.notAnObject }
    return dictionary
}

/// The description of the error decoding `json` as `type` throws, nil if it decodes.
func decodingFailure<Value: Decodable>(_ type: Value.Type, _ json: String) -> String? {
    do {
        _ = try decode(type, json)
        return nil
    } catch {
        return String(describing: error)
    }
}

enum JSONShapeError: Error { case notAnObject }
