import BlockCore
@testable import BlockDevices
import Foundation
import Glibc
import Testing

/// A connected pair of stream sockets: one end for a `ReactorSocket`, the other read directly.
private func socketPair() -> (Int32, Int32) {
    var fds: [Int32] = [0, 0]
    precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
    return (fds[0], fds[1])
}

/// Reads from `fd` until `count` bytes or end of stream.
private func readAll(_ fd: Int32, count: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    var got = 0
    while got < count {
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, count - got) }
        if n <= 0 { break }
        got += n
    }
    return Array(bytes[0..<got])
}

@Suite struct BatchedWriterTests {
    final class Recorder: RoundEndWork, @unchecked Sendable {
        var log: [String] = []
        func roundEnded() { log.append("round end") }
    }

    @Test func roundEndWorkRunsAfterTheRoundsJobs() async throws {
        for useIOUring in [true, false] {
            let reactor = try Reactor(name: "rend", options: .init(useIOUring: useIOUring))
            defer { reactor.shutdown() }
            let recorder = Recorder()
            let log = await reactor.run { () -> [String] in
                reactor.atRoundEnd(recorder)
                recorder.log.append("rest of the job")
                await Task.yield()  // the job ends here, and with it the round
                recorder.log.append("next round")
                return recorder.log
            }
            #expect(log == ["rest of the job", "round end", "next round"], "io_uring \(useIOUring)")
        }
    }

    @Test func appendsFromManyTasksGoOutInOrderAndDrainWaitsForThem() async throws {
        for useIOUring in [true, false] {
            let reactor = try Reactor(name: "bw", options: .init(useIOUring: useIOUring))
            defer { reactor.shutdown() }
            let (mine, peer) = socketPair()
            defer { close(peer) }
            let writer = BatchedWriter(socket: ReactorSocket(fd: mine, reactor: reactor), initialBytes: 64)
            // 200 messages of 1..200 bytes: the buffer grows past its first 64 bytes, and the
            // peer's socket buffer fills, so sends come back partial.
            let total = (1...200).reduce(0, +)
            let reader = Task.detached { readAll(peer, count: total) }
            await reactor.run {
                await withTaskGroup(of: Void.self) { group in
                    for length in 1...200 {
                        group.addTask {
                            await Task.yield()
                            writer.append(count: length) { out in
                                for i in 0..<length { out[i] = UInt8(length & 0xFF) }
                            }
                        }
                    }
                }
                await writer.drain()
            }
            let received = await reader.value
            #expect(received.count == total, "io_uring \(useIOUring)")
            // Each message arrives whole: runs of one value, as long as the value.
            var index = 0
            var whole = true
            while index < received.count {
                let length = Int(received[index])
                if index + length > received.count || received[index..<(index + length)].contains(where: { Int($0) != length }) {
                    whole = false
                    break
                }
                index += length
            }
            #expect(whole)
            await reactor.run { writer.close() }
        }
    }

    @Test func closeEndsTheConnectionAndReleasesDrainers() async throws {
        let reactor = try Reactor(name: "bwc")
        defer { reactor.shutdown() }
        let (mine, peer) = socketPair()
        let writer = BatchedWriter(socket: ReactorSocket(fd: mine, reactor: reactor))
        await reactor.run {
            // More than the socket buffers hold while nobody reads: the send stays in flight.
            for _ in 0..<64 { writer.append(count: 64 * 1024) { _ in } }
            async let drained: Void = writer.drain()
            try? await Task.sleep(for: .milliseconds(20))
            writer.close()
            await drained
            #expect(writer.isClosed)
            writer.append([1, 2, 3])  // ignored once closed
        }
        // The peer sees end of stream after whatever got through.
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { read(peer, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            total += n
        }
        #expect(total < 64 * 64 * 1024)
        close(peer)
    }

    @Test func waitForRoomHoldsAReaderWhileTheQueueIsAboveTheHighWaterMark() async throws {
        for useIOUring in [true, false] {
            let reactor = try Reactor(name: "bwr", options: .init(useIOUring: useIOUring))
            defer { reactor.shutdown() }
            let (mine, peer) = socketPair()
            defer { close(peer) }
            let writer = BatchedWriter(socket: ReactorSocket(fd: mine, reactor: reactor), highWaterBytes: 256 * 1024)
            let total = 16 * 1024 * 1024
            // Nobody reads: the queue passes the mark and a waiter stays waiting.
            let waiting = await reactor.run { () -> Bool in
                for _ in 0..<(total / 65536) { writer.append(count: 65536) { $0.initializeMemory(as: UInt8.self, repeating: 7) } }
                #expect(!writer.hasRoom)
                let room = Task(executorPreference: reactor) { await writer.waitForRoom() }
                try? await Task.sleep(for: .milliseconds(50))
                #expect(!writer.hasRoom, "io_uring \(useIOUring)")
                _ = room
                return !writer.hasRoom
            }
            #expect(waiting)
            // The peer reads everything: the queue drains below the mark and the waiter goes on.
            let reader = Task.detached { readAll(peer, count: total) }
            await reactor.run {
                await writer.waitForRoom()
                #expect(writer.queuedBytes < writer.highWaterBytes)
                await writer.drain()
            }
            #expect(await reader.value.count == total, "io_uring \(useIOUring)")
            await reactor.run { writer.close() }
        }
    }

    @Test func closeReleasesRoomWaiters() async throws {
        let reactor = try Reactor(name: "bwrc")
        defer { reactor.shutdown() }
        let (mine, peer) = socketPair()
        defer { close(peer) }
        let writer = BatchedWriter(socket: ReactorSocket(fd: mine, reactor: reactor), highWaterBytes: 4096)
        await reactor.run {
            for _ in 0..<64 { writer.append(count: 64 * 1024) { _ in } }
            async let room: Void = writer.waitForRoom()
            try? await Task.sleep(for: .milliseconds(20))
            writer.close()
            await room
            #expect(writer.hasRoom)
        }
    }
}

@Suite struct RequestSlotPoolTests {
    @Test func payloadInFlightIsBoundedAndALoneLargeRequestStillRuns() async throws {
        let reactor = try Reactor(name: "slots")
        defer { reactor.shutdown() }
        await reactor.run {
            let pool = RequestSlotPool(limit: 8, blank: 0, inFlightBytesLimit: 1 << 20)
            let first = pool.take { _ in }
            #expect(first != nil)
            // A request larger than the whole budget runs when it is alone...
            pool.giveBack(first!)
            let large = await pool.acquire(payloadBytes: 4 << 20) { _ in }
            #expect(large != nil && pool.inFlightBytes == 4 << 20)
            // ...and a second one waits until the first is given back.
            let second = Task(executorPreference: reactor) { await pool.acquire(payloadBytes: 512 << 10) { _ in } }
            try? await Task.sleep(for: .milliseconds(20))
            #expect(pool.inFlight == 1)
            pool.giveBack(large!)
            let taken = await second.value
            #expect(taken != nil && pool.inFlightBytes == 512 << 10 && pool.inFlight == 1)
            pool.close()
        }
    }

    @Test func grownBuffersOfFreeSlotsAreGivenBackPastTheRetainedLimit() async throws {
        let reactor = try Reactor(name: "slotbuf")
        defer { reactor.shutdown() }
        await reactor.run {
            let pool = RequestSlotPool(limit: 8, blank: 0, retainedBufferBytesLimit: 2 << 20)
            var slots: [RequestSlot<Int>] = []
            for _ in 0..<8 { slots.append(pool.take { _ in }!) }
            // Each slot grows to 1 MiB in turn and is freed: the free ones shrink as the total
            // passes 2 MiB, so at most a few keep their large buffers.
            for slot in slots {
                pool.reserve(slot, 1 << 20)
                #expect(slot.buffer.count == 1 << 20)
                pool.giveBack(slot)
            }
            let retained = slots.reduce(0) { $0 + $1.buffer.count }
            #expect(retained <= (2 << 20) + (1 << 20))
            pool.close()
        }
    }
}
