import Foundation
import Glibc
import TestSupport
import Testing

@Suite struct ReplicaCommandTests {
    @Test func clearErrorsForABadDirectoryASizeMismatchAndABusyAddress() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hornbill-replica-cli-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = freeTCPPort()
        // A listener already on the port: the replica must say the address is in use.
        let busy = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(busy) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(busy, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        _ = listen(busy, 1)
        let inUse = try runHornbill(["replica", directory, "--size", "1048576", "--listen", "127.0.0.1:\(port)"])
        #expect(inUse.status != 0 && inUse.error.contains("already in use"), "\(inUse.error)")
        // The directory was made by the failed start; a different size is refused.
        #expect(FileManager.default.fileExists(atPath: "\(directory)/volume.meta"))
        let mismatch = try runHornbill(["replica", directory, "--size", "2097152", "--listen", "127.0.0.1:0"])
        #expect(mismatch.status != 0 && mismatch.error.contains("holds 1048576 bytes"), "\(mismatch.error)")
        try Data("{".utf8).write(to: URL(fileURLWithPath: "\(directory)/volume.meta"))
        let corrupted = try runHornbill(["replica", directory, "--size", "1048576", "--listen", "127.0.0.1:0"])
        #expect(corrupted.status != 0 && corrupted.error.contains("corrupted"), "\(corrupted.error)")
        let badListen = try runHornbill(["replica", directory, "--size", "1048576", "--listen", "nowhere"])
        #expect(badListen.status != 0 && badListen.error.contains("HOST:PORT"))
    }
}
