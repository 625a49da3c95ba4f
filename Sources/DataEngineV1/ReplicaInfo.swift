// The replica's answer to an info request (docs/replica-protocol.md): a JSON object with its size,
// revision counter and error. A controller decodes it from bytes a replica chose, so every field
// is checked and anything else is a thrown `ReplicaError`, never a trap.

import Foundation

public struct ReplicaInfo: Sendable, Equatable {
    /// The replica's size in bytes.
    public var size: Int64
    /// The highest revision a write carried.
    public var revision: Int64
    /// The replica's recorded error; empty when it has none.
    public var error: String

    public init(size: Int64, revision: Int64, error: String = "") {
        self.size = size
        self.revision = revision
        self.error = error
    }

    /// Largest info answer a controller accepts (the object has six short members).
    public static let maxBytes = 4096

    /// Decodes an info answer.
    public init(json bytes: [UInt8]) throws(ReplicaError) {
        guard bytes.count <= Self.maxBytes else { throw ReplicaError("info of \(bytes.count) bytes") }
        let object: [String: Any]
        do {
            guard let decoded = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw ReplicaError("info is not a JSON object")
            }
            object = decoded
        } catch let error as ReplicaError {
            throw error
        } catch {
            throw ReplicaError("info is not JSON: \(error)")
        }
        guard let size = Self.integer(object["size"]), let revision = Self.integer(object["revision"]) else {
            throw ReplicaError("info without an integer size and revision")
        }
        self.size = size
        self.revision = revision
        self.error = object["error"] as? String ?? ""
    }

    /// A JSON number that is an integer Int64 holds exactly: not a fraction, not out of range,
    /// not `true`/`false` (booleans are numbers of type "c" to Foundation, and 0 and 1 convert).
    private static func integer(_ value: Any?) -> Int64? {
        guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else { return nil }
        return value as? Int64
    }
}
