import BlockCore
import BlockDevices
import DataEngineV1
import Foundation
import Glibc
import StorageKit
import TestSupport
import Testing

private let reactor: Reactor = {
    do { return try Reactor(name: "replica-test") } catch { fatalError("\(error)") }
}()

private func temporaryDirectory() -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("hornbill-replica-\(UUID().uuidString.prefix(8))").path
    return path
}


/// A blocking replica-protocol client.
private final class RawReplicaClient: @unchecked Sendable {
    private let socket: RawSocket
    var fd: Int32 { socket.fd }

    init(port: UInt16) throws { socket = try RawSocket.connect(port: port) }

    func send(_ bytes: [UInt8]) { socket.send(bytes) }

    /// Exactly `count` bytes; nil when the peer closed or nothing came within 30 s.
    func receive(_ count: Int) async throws -> [UInt8]? {
        let socket = self.socket
        return try await offThread { socket.receive(exactly: count, timeout: .seconds(30)) }
    }

    func call(_ request: ReplicaRequest, payload: [UInt8] = []) async throws -> (status: UInt16, data: [UInt8])? {
        send(request.bytes + payload)
        guard let header = try await receive(ReplicaProtocol.responseBytes),
            let response = header.withUnsafeBytes({ ReplicaResponse(bytes: $0) })
        else { return nil }
        #expect(response.id == request.id)
        let data = response.length == 0 ? [] : (try await receive(Int(response.length)) ?? [])
        return (response.status, data)
    }
}

@Suite struct ReplicaLimitsTests {
    @Test func limitsHangTogether() {
        // The largest request fits the payload budget with others beside it, and the buffers kept
        // between requests cover what may be in flight.
        #expect(ReplicaLimits.maxInFlightPayloadBytes >= 2 * ReplicaProtocol.maxPayloadBytes)
        #expect(ReplicaLimits.maxRetainedSlotBufferBytes >= ReplicaLimits.maxInFlightPayloadBytes)
        #expect(ReplicaLimits.receiveBufferBytes >= 4 * ReplicaProtocol.requestBytes)
    }
}

@Suite struct ReplicaDirectoryTests {
    @Test func layoutIsLonghornsAndTheHeadFileIsSparse() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(!ReplicaDirectory.isReplica(path))
        let replica = try ReplicaDirectory.openOrCreate(path: path, size: 1 << 30)
        #expect(ReplicaDirectory.isReplica(path))
        let meta = try #require(FileManager.default.contents(atPath: "\(path)/volume.meta"))
        let object = try #require(try JSONSerialization.jsonObject(with: meta) as? [String: Any])
        #expect(Set(object.keys) == ["Size", "Head", "Dirty", "Rebuilding", "Error", "Parent", "SectorSize", "BackingFilePath"])
        #expect(object["Size"] as? Int == 1 << 30 && object["Head"] as? String == "volume-head-000.img")
        #expect(FileManager.default.fileExists(atPath: "\(path)/volume-head-000.img.meta"))
        #expect(replica.loadRevision() == 0)
        var info = stat()
        #expect(stat(replica.headPath, &info) == 0)
        #expect(info.st_size == 1 << 30 && info.st_blocks * 512 < 1 << 20)
    }

    @Test func clearErrorsForWrongSizeCorruptionAndFiles() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try ReplicaDirectory.openOrCreate(path: path, size: 1 << 20)
        #expect(throws: ReplicaError.self) { _ = try ReplicaDirectory.openOrCreate(path: path, size: 2 << 20) }
        do {
            _ = try ReplicaDirectory.openOrCreate(path: path, size: 2 << 20)
        } catch {
            #expect("\(error)".contains("holds 1048576 bytes"))
        }
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: "\(path)/volume.meta"))
        #expect(!ReplicaDirectory.isReplica(path))
        do {
            _ = try ReplicaDirectory.openOrCreate(path: path, size: 1 << 20)
            Issue.record("a corrupted volume.meta was accepted")
        } catch {
            #expect("\(error)".contains("corrupted"))
        }
        let file = try TemporaryFile(size: 4096)
        #expect(throws: ReplicaError.self) { _ = try ReplicaDirectory.openOrCreate(path: file.path, size: 1 << 20) }
        #expect(throws: ReplicaError.self) { _ = try ReplicaDirectory.openOrCreate(path: path + "-x", size: 1000) }
    }
}

extension ReplicaDirectoryTests {
    /// The counter is a store into the file's mapped page: the file reads the new value at once
    /// (another process sees it), and a shorter counter another program wrote is rewritten at
    /// the fixed width before it is mapped.
    @Test func revisionCounterStoresReachTheFileAndAShortCounterIsWidened() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let replica = try ReplicaDirectory.openOrCreate(path: path, size: 1 << 20)
            try replica.storeRevision(123_456_789, durable: false)
            let text = try String(contentsOfFile: "\(path)/revision.counter", encoding: .utf8)
            #expect(text == "00000000000123456789")
        }
        try Data("42".utf8).write(to: URL(fileURLWithPath: "\(path)/revision.counter"))
        let reopened = try ReplicaDirectory.openOrCreate(path: path, size: 1 << 20)
        #expect(reopened.loadRevision() == 42)
        #expect(try String(contentsOfFile: "\(path)/revision.counter", encoding: .utf8) == "00000000000000000042")
        try reopened.storeRevision(43, durable: true)
        #expect(reopened.loadRevision() == 43)
    }
}

@Suite struct ReplicaServerTests {
    @Test func readWriteFlushUnmapInfoAndRevision() async throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = try ReplicaDirectory.openOrCreate(path: path, size: 16 << 20)
        let server = try ReplicaServer(directory: directory, reactor: reactor)
        let port = try server.listen(host: "127.0.0.1", port: 0)
        let client = try RawReplicaClient(port: port)
        var random = SeededRandom(seed: 4)
        var payload = [UInt8](repeating: 0, count: 65536)
        payload.withUnsafeMutableBytes { random.fill($0) }
        #expect(try await client.call(ReplicaRequest(kind: .write, id: 1, offset: 1 << 20, length: 65536, revision: 7), payload: payload)?.status == 0)
        #expect(try await client.call(ReplicaRequest(kind: .read, id: 2, offset: 1 << 20, length: 65536))?.data == payload)
        #expect(try await client.call(ReplicaRequest(kind: .read, id: 3, offset: 0, length: 4096))?.data == [UInt8](repeating: 0, count: 4096))
        #expect(try await client.call(ReplicaRequest(kind: .flush, id: 4))?.status == 0)
        #expect(directory.loadRevision() == 7)
        #expect(directory.meta.dirty)
        let info = try #require(try await client.call(ReplicaRequest(kind: .info, id: 5)))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(info.data)) as? [String: Any])
        #expect(object["revision"] as? Int == 7 && object["size"] as? Int == 16 << 20 && object["dirty"] as? Bool == true)
        #expect(try await client.call(ReplicaRequest(kind: .unmap, id: 6, offset: 1 << 20, length: 4096))?.status == 0)
        #expect(try await client.call(ReplicaRequest(kind: .read, id: 7, offset: 1 << 20, length: 4096))?.data == [UInt8](repeating: 0, count: 4096))
        // Errors: out of range, misaligned, unknown kind; the connection goes on.
        #expect(try await client.call(ReplicaRequest(kind: .read, id: 8, offset: 16 << 20, length: 4096))?.status == UInt16(EINVAL))
        #expect(try await client.call(ReplicaRequest(kind: .read, id: 9, offset: 1, length: 512))?.status == UInt16(EINVAL))
        var unknown = ReplicaRequest(kind: .ping, id: 10)
        unknown.kind = 99
        #expect(try await client.call(unknown)?.status == UInt16(EINVAL))
        #expect(try await client.call(ReplicaRequest(kind: .ping, id: 11))?.status == 0)
        // The head file stays sparse: 64 KiB written into a 16 MiB file.
        var stats = stat()
        #expect(stat(directory.headPath, &stats) == 0 && stats.st_blocks * 512 < 1 << 20)
        // A bad magic ends that connection only.
        client.send([UInt8](repeating: 0x55, count: 40))
        #expect(try await client.receive(1) == nil)
        let second = try RawReplicaClient(port: port)
        #expect(try await second.call(ReplicaRequest(kind: .ping, id: 1))?.status == 0)
        await server.stop()
        #expect(!directory.meta.dirty)
        let reopened = try ReplicaDirectory.openOrCreate(path: path, size: 16 << 20)
        #expect(reopened.loadRevision() == 7 && !reopened.meta.dirty)
    }
}
