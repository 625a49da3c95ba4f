// Strict parameter decoding (spdk.md §1.2): an unknown key, a repeated key, a wrong JSON type or
// a missing required key fails the whole request, as SPDK's spdk_json_decode_object does.

import JSONRPC

struct Params {
    private var members: [(key: String, value: JSONValue)]
    private var used = Set<String>()
    private(set) var failure: JSONRPCError?

    /// The decode failure SPDK's bdev and lvol handlers report.
    static let decodeFailed = JSONRPCError(code: -32603, message: "spdk_json_decode_object failed")

    init(_ params: JSONValue?) throws(JSONRPCError) {
        switch params {
        case nil: members = []
        case .object(let list)?:
            var seen = Set<String>()
            for member in list where !seen.insert(member.key).inserted { throw Self.decodeFailed }
            members = list
        default: throw Self.decodeFailed
        }
    }

    private mutating func take(_ key: String) -> JSONValue? {
        used.insert(key)
        return members.first { $0.key == key }?.value
    }

    mutating func string(_ key: String) throws(JSONRPCError) -> String? {
        guard let value = take(key) else { return nil }
        guard case .string(let text) = value else { throw Self.decodeFailed }
        return text
    }

    mutating func requiredString(_ key: String) throws(JSONRPCError) -> String {
        guard let value = try string(key) else { throw Self.decodeFailed }
        return value
    }

    mutating func bool(_ key: String) throws(JSONRPCError) -> Bool? {
        guard let value = take(key) else { return nil }
        guard case .bool(let flag) = value else { throw Self.decodeFailed }
        return flag
    }

    mutating func uint64(_ key: String) throws(JSONRPCError) -> UInt64? {
        guard let value = take(key) else { return nil }
        guard case .number(let text) = value, let number = UInt64(text) else { throw Self.decodeFailed }
        return number
    }

    /// A signed integer (e.g. -1 for "infinite" timeouts).
    mutating func int64(_ key: String) throws(JSONRPCError) -> Int64? {
        guard let value = take(key) else { return nil }
        guard case .number(let text) = value, let number = Int64(text) else { throw Self.decodeFailed }
        return number
    }

    /// A nested object, left to its own decoder.
    mutating func object(_ key: String) throws(JSONRPCError) -> JSONValue? {
        guard let value = take(key) else { return nil }
        guard case .object = value else { throw Self.decodeFailed }
        return value
    }

    mutating func requiredUInt64(_ key: String) throws(JSONRPCError) -> UInt64 {
        guard let value = try uint64(key) else { throw Self.decodeFailed }
        return value
    }

    /// An array of strings.
    mutating func stringArray(_ key: String) throws(JSONRPCError) -> [String]? {
        guard let value = take(key) else { return nil }
        guard case .array(let elements) = value else { throw Self.decodeFailed }
        var strings: [String] = []
        for element in elements {
            guard case .string(let text) = element else { throw Self.decodeFailed }
            strings.append(text)
        }
        return strings
    }

    /// An object of string values (e.g. snapshot xattrs); `null` or absent is empty.
    mutating func stringMap(_ key: String) throws(JSONRPCError) -> [String: String] {
        guard let value = take(key) else { return [:] }
        switch value {
        case .null: return [:]
        case .object(let members):
            var map: [String: String] = [:]
            for member in members {
                guard case .string(let text) = member.value, map[member.key] == nil else { throw Self.decodeFailed }
                map[member.key] = text
            }
            return map
        default: throw Self.decodeFailed
        }
    }

    /// Fails when a key was sent that the method does not know.
    func finish() throws(JSONRPCError) {
        if members.contains(where: { !used.contains($0.key) }) { throw Self.decodeFailed }
    }
}
