import Foundation

/// A JSON object parsed from bytes the server produced, for reading fields in tests.
struct JSONObject {
    let members: [String: Any]

    init(_ data: Data) throws {
        guard let members = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw NotAnObject()
        }
        self.members = members
    }

    init(members: [String: Any]) { self.members = members }

    subscript(key: String) -> Any? { members[key] }
    func string(_ key: String) -> String? { members[key] as? String }
    func int(_ key: String) -> Int? { members[key] as? Int }
    func bool(_ key: String) -> Bool? { members[key] as? Bool }
    func object(_ key: String) -> JSONObject? { (members[key] as? [String: Any]).map(JSONObject.init(members:)) }
    func objects(_ key: String) -> [JSONObject]? {
        (members[key] as? [Any])?.compactMap { ($0 as? [String: Any]).map(JSONObject.init(members:)) }
    }

    struct NotAnObject: Error {}
}

func encodeJSON(_ value: some Encodable) throws -> JSONObject {
    try JSONObject(JSONEncoder().encode(value))
}
