import BlockCore
import BlockDevices
import Foundation
import Glibc
import NBD
import StorageKit
import TestSupport
import Testing

private let reactor: Reactor = {
    do { return try Reactor(name: "nbd-test") } catch { fatalError("\(error)") }
}()


/// A hand-driven NBD client on a blocking socket (every wait bounded by poll).
private final class RawNBDClient: @unchecked Sendable {
    private let socket: RawSocket
    var fd: Int32 { socket.fd }

    init(port: UInt16) throws { socket = try RawSocket.connect(port: port) }

    func send(_ bytes: [UInt8]) { socket.send(bytes) }

    /// Exactly `count` bytes; nil when the peer closed or nothing came within 30 s.
    func receive(_ count: Int) async throws -> [UInt8]? {
        let socket = self.socket
        return try await offThread { socket.receive(exactly: count, timeout: .seconds(30)) }
    }

    static func be<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
    static func read<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, as: T.Type = T.self) -> T {
        bytes.withUnsafeBytes { T(bigEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }

    /// The server greeting, then fixed newstyle with no zeroes.
    func greet() async throws {
        let greeting = try #require(try await receive(18))
        #expect(Self.read(greeting, 0, as: UInt64.self) == NBDWire.handshakeMagic)
        #expect(Self.read(greeting, 8, as: UInt64.self) == NBDWire.optionMagic)
        #expect(Self.read(greeting, 16, as: UInt16.self) & NBDWire.flagFixedNewstyle != 0)
        send(Self.be(NBDWire.clientFlagFixedNewstyle | NBDWire.clientFlagNoZeroes))
    }

    func option(_ option: UInt32, _ data: [UInt8] = []) {
        send(Self.be(NBDWire.optionMagic) + Self.be(option) + Self.be(UInt32(data.count)) + data)
    }

    /// One option reply: its type and payload.
    func optionReply() async throws -> (type: UInt32, data: [UInt8])? {
        guard let header = try await receive(20) else { return nil }
        #expect(Self.read(header, 0, as: UInt64.self) == NBDWire.optionReplyMagic)
        let length = Int(Self.read(header, 16, as: UInt32.self))
        let data = length == 0 ? [] : (try await receive(length) ?? [])
        return (Self.read(header, 12, as: UInt32.self), data)
    }

    /// NBD_OPT_GO for `name`; returns the size and transmission flags.
    func go(_ name: String) async throws -> (size: UInt64, flags: UInt16)? {
        option(NBDWire.Option.go.rawValue, Self.be(UInt32(name.utf8.count)) + Array(name.utf8) + Self.be(UInt16(1)) + Self.be(NBDWire.infoBlockSize))
        var export: (UInt64, UInt16)?
        while let reply = try await optionReply() {
            if reply.type == NBDWire.replyAck { return export }
            guard reply.type == NBDWire.replyInfo else { return nil }
            if Self.read(reply.data, 0, as: UInt16.self) == NBDWire.infoExport {
                export = (Self.read(reply.data, 2, as: UInt64.self), Self.read(reply.data, 10, as: UInt16.self))
            }
        }
        return nil
    }

    /// A request and its simple reply (error, data).
    func request(_ command: NBDWire.Command, offset: UInt64, length: UInt32, flags: UInt16 = 0, cookie: UInt64 = 1, payload: [UInt8] = []) async throws -> (error: UInt32, data: [UInt8])? {
        send(NBDRequest(flags: flags, type: command.rawValue, cookie: cookie, offset: offset, length: length).bytes + payload)
        guard let reply = try await receive(16) else { return nil }
        #expect(Self.read(reply, 0, as: UInt32.self) == NBDWire.simpleReplyMagic)
        #expect(Self.read(reply, 8, as: UInt64.self) == cookie)
        let error = Self.read(reply, 4, as: UInt32.self)
        guard command == .read, error == 0 else { return (error, []) }
        return (error, try await receive(Int(length)) ?? [])
    }

    func closedWithin(_ timeout: Duration) async -> Bool {
        let fd = self.fd
        return (try? await offThread {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(timeout.components.seconds * 1000)
            guard poll(&poller, 1, milliseconds) == 1 else { return false }
            var scratch = [UInt8](repeating: 0, count: 65536)
            while true {
                let got = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if got == 0 { return true }
                if got < 0 { return errno != EAGAIN || poll(&poller, 1, milliseconds) != 1 ? false : true }
            }
        }) ?? false
    }
}

private final class Fixture: Sendable {
    let server = NBDServer(reactor: reactor)
    let address = NBDAddress(host: "127.0.0.1", port: 0)
    let device: MallocDevice
    let port: UInt16

    init(readOnly: Bool = false) throws {
        device = try MallocDevice(name: "M\(UUID().uuidString.prefix(6))", blockCount: 2048, blockSize: 512)
        try server.createExport(name: "disk", device: device, address: address, readOnly: readOnly)
        try server.createExport(name: "other", device: try MallocDevice(name: "O", blockCount: 64, blockSize: 4096), address: address, readOnly: true)
        port = server.boundPort(address)!
    }
}

@Suite struct NBDLimitsTests {
    @Test func limitsHangTogether() {
        // The largest request fits the payload budget with others beside it, and the buffers kept
        // between requests cover what may be in flight.
        #expect(NBDLimits.maxInFlightPayloadBytes >= 2 * NBDLimits.maxPayloadBytes)
        #expect(NBDLimits.maxRetainedSlotBufferBytes >= NBDLimits.maxInFlightPayloadBytes)
        #expect(NBDLimits.maxOptionBytes <= NBDLimits.receiveBufferBytes)
        #expect(NBDLimits.maxExportNameBytes <= NBDLimits.maxOptionBytes)
        // A removal waits for a client to take its answers, but only for a bounded time.
        #expect((1...60).contains(NBDLimits.removalDrainSeconds))
    }
}

@Suite struct NBDServerTests {
    @Test func handshakeListInfoAndGo() async throws {
        let fixture = try Fixture()
        let client = try RawNBDClient(port: fixture.port)
        try await client.greet()
        client.option(NBDWire.Option.list.rawValue)
        var names: [String] = []
        while let reply = try await client.optionReply(), reply.type == NBDWire.replyServer {
            names.append(String(decoding: reply.data[4...], as: UTF8.self))
        }
        #expect(names == ["disk", "other"])
        client.option(NBDWire.Option.go.rawValue, RawNBDClient.be(UInt32(7)) + Array("nothere".utf8) + RawNBDClient.be(UInt16(0)))
        #expect(try await client.optionReply()?.type == NBDWire.replyErrorUnknown)
        client.option(NBDWire.Option.go.rawValue, [0, 0, 0, 99])  // a name longer than the data
        #expect(try await client.optionReply()?.type == NBDWire.replyErrorInvalid)
        client.option(99)
        #expect(try await client.optionReply()?.type == NBDWire.replyErrorUnsupported)
        client.option(NBDWire.Option.startTLS.rawValue)
        #expect(try await client.optionReply()?.type == NBDWire.replyErrorPolicy)
        let export = try #require(try await client.go("other"))
        #expect(export.size == 64 * 4096)
        #expect(export.flags & NBDWire.transmissionReadOnly != 0)
        #expect(export.flags & NBDWire.transmissionSendFlush != 0)
    }

    @Test func commandsAndTheirErrors() async throws {
        let fixture = try Fixture()
        let client = try RawNBDClient(port: fixture.port)
        try await client.greet()
        let export = try #require(try await client.go("disk"))
        #expect(export.size == 2048 * 512)
        #expect(export.flags & NBDWire.transmissionSendTrim != 0 && export.flags & NBDWire.transmissionCanMultiConn != 0)
        var random = SeededRandom(seed: 3)
        var payload = [UInt8](repeating: 0, count: 8192)
        payload.withUnsafeMutableBytes { random.fill($0) }
        #expect(try await client.request(.write, offset: 4096, length: 8192, flags: NBDWire.commandFUA, payload: payload)?.error == 0)
        #expect(try await client.request(.read, offset: 4096, length: 8192)?.data == payload)
        #expect(try await client.request(.flush, offset: 0, length: 0)?.error == 0)
        #expect(try await client.request(.trim, offset: 4096, length: 4096)?.error == 0)
        #expect(try await client.request(.read, offset: 4096, length: 4096)?.data == [UInt8](repeating: 0, count: 4096))
        #expect(try await client.request(.writeZeroes, offset: 8192, length: 4096, flags: NBDWire.commandNoHole)?.error == 0)
        #expect(try await client.request(.read, offset: 8192, length: 4096)?.data == [UInt8](repeating: 0, count: 4096))
        // Errors: out of range, misaligned, unknown command, fast zero; the connection goes on.
        #expect(try await client.request(.read, offset: 2048 * 512, length: 512)?.error == NBDWire.errorInvalid)
        #expect(try await client.request(.read, offset: 100, length: 512)?.error == NBDWire.errorInvalid)
        #expect(try await client.request(.write, offset: 1, length: 512, payload: [UInt8](repeating: 1, count: 512))?.error == NBDWire.errorInvalid)
        #expect(try await client.request(.blockStatus, offset: 0, length: 512)?.error == NBDWire.errorInvalid)
        #expect(try await client.request(.writeZeroes, offset: 0, length: 512, flags: NBDWire.commandFastZero)?.error == NBDWire.errorNotSupported)
        #expect(try await client.request(.read, offset: UInt64.max - 100, length: 512)?.error == NBDWire.errorInvalid)
        #expect(try await client.request(.read, offset: 0, length: 512)?.error == 0)
        // Disconnect: the server closes.
        client.send(NBDRequest(type: NBDWire.Command.disconnect.rawValue, cookie: 9, offset: 0, length: 0).bytes)
        #expect(await client.closedWithin(.seconds(5)))
    }

    @Test func readOnlyExportRefusesWrites() async throws {
        let fixture = try Fixture(readOnly: true)
        let client = try RawNBDClient(port: fixture.port)
        try await client.greet()
        let export = try #require(try await client.go("disk"))
        #expect(export.flags & NBDWire.transmissionReadOnly != 0)
        #expect(try await client.request(.write, offset: 0, length: 512, payload: [UInt8](repeating: 7, count: 512))?.error == NBDWire.errorPermission)
        #expect(try await client.request(.trim, offset: 0, length: 512)?.error == NBDWire.errorPermission)
        #expect(try await client.request(.read, offset: 0, length: 512)?.data == [UInt8](repeating: 0, count: 512))
    }

    @Test func structuredRepliesAndExportName() async throws {
        let fixture = try Fixture()
        let client = try RawNBDClient(port: fixture.port)
        try await client.greet()
        client.option(NBDWire.Option.structuredReply.rawValue)
        #expect(try await client.optionReply()?.type == NBDWire.replyAck)
        client.option(NBDWire.Option.exportName.rawValue, Array("disk".utf8))
        let info = try #require(try await client.receive(10))  // no zeroes were asked for
        #expect(RawNBDClient.read(info, 0, as: UInt64.self) == 2048 * 512)
        client.send(NBDRequest(type: NBDWire.Command.read.rawValue, cookie: 5, offset: 512, length: 512).bytes)
        let chunk = try #require(try await client.receive(20 + 8 + 512))
        #expect(RawNBDClient.read(chunk, 0, as: UInt32.self) == NBDWire.structuredReplyMagic)
        #expect(RawNBDClient.read(chunk, 4, as: UInt16.self) == NBDWire.chunkFlagDone)
        #expect(RawNBDClient.read(chunk, 6, as: UInt16.self) == NBDWire.chunkOffsetData)
        #expect(RawNBDClient.read(chunk, 20, as: UInt64.self) == 512)
        client.send(NBDRequest(type: NBDWire.Command.read.rawValue, cookie: 6, offset: 3, length: 512).bytes)
        let error = try #require(try await client.receive(20 + 6))
        #expect(RawNBDClient.read(error, 6, as: UInt16.self) == NBDWire.chunkError)
        #expect(RawNBDClient.read(error, 20, as: UInt32.self) == NBDWire.errorInvalid)
    }

    @Test func badMagicAndHostileStreamsEndOnlyThatConnection() async throws {
        let fixture = try Fixture()
        let bad = try RawNBDClient(port: fixture.port)
        try await bad.greet()
        bad.send([UInt8](repeating: 0x41, count: 16))
        #expect(await bad.closedWithin(.seconds(5)))

        var random = SeededRandom(seed: 11)
        for round in 0..<40 {
            let client = try RawNBDClient(port: fixture.port)
            var bytes = [UInt8](repeating: 0, count: 4 + Int(random.next() % 600))
            bytes.withUnsafeMutableBytes { random.fill($0) }
            if round % 2 == 1 {
                // A valid start, then garbage requests in transmission.
                try await client.greet()
                _ = try await client.go("disk")
                bytes.replaceSubrange(0..<4, with: RawNBDClient.be(NBDWire.requestMagic))
            } else if round % 4 == 2 {
                bytes = RawNBDClient.be(UInt32(1)) + RawNBDClient.be(NBDWire.optionMagic) + bytes
            }
            client.send(bytes)
            _ = await client.closedWithin(.milliseconds(200))
        }
        let good = try RawNBDClient(port: fixture.port)
        try await good.greet()
        #expect(try await good.go("disk") != nil)
        #expect(try await good.request(.read, offset: 0, length: 512)?.error == 0)
    }

    @Test func deleteExportClosesItsConnectionsAndReleasesTheDevice() async throws {
        let fixture = try Fixture()
        #expect(fixture.device.claims.current.claimant == "nbd")
        let client = try RawNBDClient(port: fixture.port)
        try await client.greet()
        _ = try await client.go("disk")
        #expect(fixture.server.exports.first { $0.name == "disk" }?.connections == 1)
        try await fixture.server.deleteExport(name: "disk")
        #expect(await client.closedWithin(.seconds(5)))
        #expect(fixture.device.claims.current.claimant == nil)
        await #expect(throws: BlockError.self) { try await fixture.server.deleteExport(name: "disk") }
    }

    @Test func aHotRemovedDeviceDeletesItsExport() async throws {
        let fixture = try Fixture()
        let client = try RawNBDClient(port: fixture.port)
        try await client.greet()
        _ = try await client.go("disk")
        await fixture.device.claims.hotRemove()
        #expect(await client.closedWithin(.seconds(5)))
        #expect(!fixture.server.exports.contains { $0.name == "disk" })
        #expect(fixture.device.claims.current.claimant == nil && fixture.device.claims.current.writers == 0)
    }

    /// A server exporting `device` as `disk`, and a raw client of it through the handshake.
    private func exportInTransmission(_ device: GateDevice) async throws -> (NBDServer, RawNBDClient) {
        let server = NBDServer(reactor: reactor)
        let address = NBDAddress(host: "127.0.0.1", port: 0)
        try server.createExport(name: "disk", device: device, address: address, readOnly: false)
        let client = try RawNBDClient(port: try #require(server.boundPort(address)))
        try await client.greet()
        _ = try #require(try await client.go("disk"))
        return (server, client)
    }

    @Test func aHotRemoveAnswersTheRequestsInFlightThenCloses() async throws {
        let device = try GateDevice(name: "gate-\(UUID().uuidString.prefix(6))", blockCount: 2048, blockSize: 512)
        let (server, client) = try await exportInTransmission(device)
        func read(_ cookie: UInt64) {
            client.send(NBDRequest(flags: 0, type: NBDWire.Command.read.rawValue, cookie: cookie, offset: cookie * 512, length: 512).bytes)
        }
        for cookie in 1...4 { read(UInt64(cookie)) }
        #expect(await device.waitForWaitingIOs(4), "four reads in flight on the device")
        let removal = Task { await device.claims.hotRemove() }
        for _ in 0..<6000 where server.exports.contains(where: { $0.name == "disk" }) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(!server.exports.contains { $0.name == "disk" })
        // A request read once the export is going never reaches the device: EIO at once, while the
        // removal waits for the four in flight.
        read(5)
        let refused = try #require(try await client.receive(16))
        #expect(RawNBDClient.read(refused, 8, as: UInt64.self) == 5)
        #expect(RawNBDClient.read(refused, 4, as: UInt32.self) == NBDWire.errorIO)
        // The reads in flight complete on the device and are answered before the connection closes.
        device.openGate()
        var answered: [UInt64: UInt32] = [:]
        for _ in 1...4 {
            let reply = try #require(try await client.receive(16))
            let error = RawNBDClient.read(reply, 4, as: UInt32.self)
            if error == 0 { _ = try #require(try await client.receive(512)) }
            answered[RawNBDClient.read(reply, 8, as: UInt64.self)] = error
        }
        #expect(answered == [1: 0, 2: 0, 3: 0, 4: 0])
        await removal.value
        #expect(await client.closedWithin(.seconds(10)))
        #expect(device.claims.current.writers == 0 && device.claims.current.claimant == nil)
    }

    @Test func aHotRemoveDoesNotWaitForAClientThatStopsReading() async throws {
        let device = try GateDevice(name: "gate-\(UUID().uuidString.prefix(6))", blockCount: 8192, blockSize: 512)
        device.openGate()
        let (server, client) = try await exportInTransmission(device)
        // Reads whose answers (4 MiB each) the client never takes fill every buffer on the way.
        for cookie in 1...8 {
            client.send(NBDRequest(flags: 0, type: NBDWire.Command.read.rawValue, cookie: UInt64(cookie), offset: 0, length: 4 << 20).bytes)
        }
        try await Task.sleep(for: .milliseconds(200))  // lets them start; the test holds either way
        let started = ContinuousClock.now
        await device.claims.hotRemove()
        // Bounded by the drain limit (plus slack for a loaded machine), not by the client.
        #expect(ContinuousClock.now - started < .seconds(NBDLimits.removalDrainSeconds + 60))
        #expect(!server.exports.contains { $0.name == "disk" })
        #expect(device.claims.current.writers == 0)
    }
}
