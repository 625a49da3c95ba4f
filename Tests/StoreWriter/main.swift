// A child process for the store's kill test: opens the store in DIRECTORY and writes a burst of
// resources named PREFIX-<n>, printing each acknowledged write as it returns, until it is killed:
//   ready <revision before the burst>
//   created|updated|deleted <name> <resourceVersion>
// Write n (from 1): n % 3 != 0 creates PREFIX-n; otherwise PREFIX-(n-1) is updated, or deleted
// when n % 6 == 0. Each document is `{"sequence": n, "name": …, "payload": …}`, the payload a
// pattern of n that the test regenerates to find a torn document.

import Foundation
import ManagerModel
import ManagerStore

struct BurstItem: StoredResourceType, Equatable {
    static let kind = ResourceKind(rawValue: "burstItems")
    var sequence: Int
    var name: String
    var payload: String

    /// 200 to 20 000 characters derived from the sequence number.
    static func payload(for sequence: Int) -> String {
        let length = 200 + (sequence * 7919) % 19_800
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<length).map { alphabet[($0 + sequence) % alphabet.count] })
    }
}

func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: hornbill-store-writer DIRECTORY PREFIX\n".utf8))
    exit(2)
}
let prefix = arguments[2]

do {
    let store = try SQLiteResourceStore(directory: arguments[1])
    emit("ready \(try await store.revision())")
    var versions: [String: Int64] = [:]
    for sequence in 1...1_000_000 {
        let item = { (name: String) in BurstItem(sequence: sequence, name: name, payload: BurstItem.payload(for: sequence)) }
        if sequence % 3 != 0 {
            let name = "\(prefix)-\(sequence)"
            let stored = try await store.create(item(name), name: name, labels: ["burst": prefix])
            versions[name] = stored.resourceVersion
            emit("created \(name) \(stored.resourceVersion)")
        } else {
            let name = "\(prefix)-\(sequence - 1)"
            guard let version = versions.removeValue(forKey: name) else { fatalError("no version for \(name)") }
            if sequence % 6 == 0 {
                let gone = try await store.delete(BurstItem.self, name, expectedVersion: version)
                emit("deleted \(name) \(gone.resourceVersion)")
            } else {
                let stored = try await store.update(item(name), name: name, labels: ["burst": prefix], expectedVersion: version)
                emit("updated \(name) \(stored.resourceVersion)")
            }
        }
    }
    try store.close()
    emit("done")
} catch {
    FileHandle.standardError.write(Data("hornbill-store-writer: \(error)\n".utf8))
    exit(1)
}
