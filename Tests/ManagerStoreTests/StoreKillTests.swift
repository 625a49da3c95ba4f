// Kills a real process in the middle of a burst of writes to the store and checks, after
// reopening the file, that every write it acknowledged is there with its version, that at most the
// one write in flight landed beyond them, and that nothing is half-written.

import Foundation
import ManagerModel
import ManagerStore
import Synchronization
import Testing

/// The document `hornbill-store-writer` writes (decoded here on its own, to check its bytes).
private struct BurstItem: StoredResourceType, Equatable {
    static let kind = ResourceKind(rawValue: "burstItems")
    var sequence: Int
    var name: String
    var payload: String

    static func payload(for sequence: Int) -> String {
        let length = 200 + (sequence * 7919) % 19_800
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<length).map { alphabet[($0 + sequence) % alphabet.count] })
    }
}

/// Path of a product built next to the test bundle.
private func builtProduct(_ name: String) -> URL {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    if directory.lastPathComponent == "MacOS" {  // inside an .xctest bundle
        directory = directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    return directory.appendingPathComponent(name)
}

/// One acknowledged write, as the writer printed it.
private struct Acknowledged {
    var change: String
    var name: String
    var version: Int64
}

/// Runs the writer on `directory` until `count` writes are acknowledged, then SIGKILLs it.
/// Lines are read on a thread of its own: the blocking reads never hold a task's thread.
private func runWriterAndKill(directory: String, prefix: String, after count: Int) async throws -> (ready: Int64, acks: [Acknowledged]) {
    let executable = builtProduct("hornbill-store-writer")
    try #require(
        FileManager.default.isExecutableFile(atPath: executable.path),
        "build it first: swift build --product hornbill-store-writer")
    let writer = Process()
    writer.executableURL = executable
    writer.arguments = [directory, prefix]
    let output = Pipe()
    writer.standardOutput = output
    try writer.run()
    let reading = output.fileHandleForReading
    let result: (Int64, [Acknowledged], String?) = await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            var ready: Int64 = -1
            var acks: [Acknowledged] = []
            var pending = ""
            var problem: String?
            reading: while acks.count < count {
                let chunk = reading.availableData
                if chunk.isEmpty {
                    problem = "the writer stopped after \(acks.count) writes"
                    break
                }
                pending += String(decoding: chunk, as: UTF8.self)
                while let newline = pending.firstIndex(of: "\n") {
                    let words = pending[..<newline].split(separator: " ").map(String.init)
                    pending = String(pending[pending.index(after: newline)...])
                    if words.count == 2, words[0] == "ready", let revision = Int64(words[1]) {
                        ready = revision
                    } else if words.count == 3, let version = Int64(words[2]) {
                        acks.append(Acknowledged(change: words[0], name: words[1], version: version))
                    } else {
                        problem = "unexpected line \(words)"
                        break reading
                    }
                }
            }
            // Killed with writes still under way: the line after the last one read may never come.
            kill(writer.processIdentifier, SIGKILL)
            writer.waitUntilExit()
            continuation.resume(returning: (ready, acks, problem))
        }
    }
    #expect(writer.terminationReason == .uncaughtSignal, "the writer was killed, it did not exit")
    if let problem = result.2 { Issue.record(Comment(rawValue: problem)) }
    return (result.0, result.1)
}

@Suite struct StoreKillTests {
    @Test(arguments: [150, 331])
    func sigkillMidBurstLosesNoAcknowledgedWrite(count: Int) async throws {
        let directory = try TemporaryDirectory()
        var acknowledged: [String: Acknowledged] = [:]
        var highest: Int64 = 0
        // Revisions of writes in flight when a writer died that landed without being acknowledged.
        var landedUnacknowledged: Set<Int64> = []
        // Two writers in turn on the same file: the second starts after the first's last revision.
        for prefix in ["first", "second"] {
            let (ready, acks) = try await runWriterAndKill(directory: directory.path, prefix: prefix, after: count)
            #expect(acks.count >= count)
            #expect(ready >= highest, "a reopened store resumes at or after the last acknowledged revision")
            #expect(ready <= highest + 1, "at most the one write in flight landed unacknowledged")
            if ready == highest + 1 { landedUnacknowledged.insert(ready) }
            for ack in acks {
                #expect(ack.version > highest, "revisions strictly increase, across restarts too")
                highest = ack.version
                acknowledged[ack.name] = ack
            }
        }

        let store = try SQLiteResourceStore(directory: directory.path)
        let revision = try await store.revision()
        #expect(revision == highest || revision == highest + 1)
        if revision == highest + 1 { landedUnacknowledged.insert(revision) }

        // Every acknowledged write is there with its version (or, if a write in flight when a
        // writer died landed on it, that write's version); every document decodes whole.
        let listed = try await store.list(BurstItem.self)
        let stored = Dictionary(uniqueKeysWithValues: listed.items.map { ($0.name, $0) })
        for ack in acknowledged.values {
            let object = stored[ack.name]
            switch ack.change {
            case "deleted":
                #expect(object == nil, "\(ack.name) was deleted at \(ack.version)")
            case "created", "updated":
                if let object {
                    #expect(
                        object.resourceVersion == ack.version || landedUnacknowledged.contains(object.resourceVersion),
                        "\(ack.name) at \(object.resourceVersion), acknowledged at \(ack.version)")
                } else {
                    #expect(landedUnacknowledged.contains { $0 > ack.version }, "\(ack.name) missing")
                }
            default:
                Issue.record("unknown change \(ack.change)")
            }
        }
        for object in listed.items {
            #expect(object.value.name == object.name)
            #expect(object.value.payload == BurstItem.payload(for: object.value.sequence), "\(object.name) torn")
            #expect(object.labels["burst"] == object.name.split(separator: "-").first.map(String.init))
            #expect(
                acknowledged[object.name] != nil || landedUnacknowledged.contains(object.resourceVersion),
                "\(object.name) never acknowledged")
        }

        // The history holds every revision once, in order, each document whole.
        let history = EventCollector(try await store.watch(nil, selector: .everything, after: 0))
        let events = await history.waitForEvents(Int(revision))
        #expect(events.map(\.revision) == Array(1...revision))
        for event in events {
            let item = try JSONDecoder().decode(BurstItem.self, from: event.resource.document)
            #expect(item.payload == BurstItem.payload(for: item.sequence))
        }
        await history.cancel()

        // The store takes writes again after the crash.
        let next = try await store.create(BurstItem.kind, name: "after-crash", labels: [:], document: Data("{}".utf8))
        #expect(next.resourceVersion == revision + 1)
        try store.close()
    }
}
