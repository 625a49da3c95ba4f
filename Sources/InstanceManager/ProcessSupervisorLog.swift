// A supervised process's captured output: the last `InstanceManagerLimits.processLogLines` lines
// in memory, and followers that get those lines and then every new one until the output ends
// (the child and everything it started closed their stdout and stderr) or they stop reading.
// One reader thread per process appends; it also keeps the optional log file (`ProcessLogFile`).
// Memory is bounded: lines are cut at `processLogLineBytes`, the ring drops its oldest line, and a
// follower that does not keep up loses its oldest undelivered lines rather than queue without end.

import Foundation
import Glibc
import Synchronization

final class ProcessLog: Sendable {
    private struct State {
        var ring: [String] = []
        var head = 0  // index of the oldest line once the ring is full
        var partial: [UInt8] = []
        var followers: [Int: AsyncStream<String>.Continuation] = [:]
        var nextFollower = 0
        var finished = false
    }

    private let state = Mutex(State())
    private let capacity: Int

    init(capacity: Int = InstanceManagerLimits.processLogLines) {
        self.capacity = capacity
    }

    /// The kept lines, oldest first.
    var lines: [String] { state.withLock { Self.ordered($0) } }

    /// The kept lines, then every new line until the output ends or the caller stops iterating.
    func follow() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(capacity))
        let id: Int? = state.withLock { state in
            for line in Self.ordered(state) { continuation.yield(line) }
            guard !state.finished else { return nil }
            defer { state.nextFollower += 1 }
            state.followers[state.nextFollower] = continuation
            return state.nextFollower
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.followers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Output bytes as read from the child's output.
    func append(_ bytes: UnsafeRawBufferPointer) {
        state.withLock { state in
            for byte in bytes {
                if byte == UInt8(ascii: "\n") {
                    Self.complete(&state, capacity: capacity)
                } else {
                    state.partial.append(byte)
                    if state.partial.count >= InstanceManagerLimits.processLogLineBytes {
                        Self.complete(&state, capacity: capacity)
                    }
                }
            }
        }
    }

    /// The output ended: a last unterminated line is kept, followers finish.
    func finish() {
        let followers = state.withLock { state in
            if !state.partial.isEmpty { Self.complete(&state, capacity: capacity) }
            state.finished = true
            defer { state.followers.removeAll() }
            return Array(state.followers.values)
        }
        for follower in followers { follower.finish() }
    }

    private static func complete(_ state: inout State, capacity: Int) {
        var bytes = state.partial
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        state.partial.removeAll(keepingCapacity: true)
        let line = String(decoding: bytes, as: UTF8.self)
        if state.ring.count < capacity {
            state.ring.append(line)
        } else {
            state.ring[state.head] = line
            state.head = (state.head + 1) % capacity
        }
        for follower in state.followers.values { follower.yield(line) }
    }

    private static func ordered(_ state: State) -> [String] {
        Array(state.ring[state.head...] + state.ring[..<state.head])
    }
}

/// `<directory>/<name>.log`, appended to by the process's reader thread only, rotated once to
/// `<name>.log.1` when it reaches `InstanceManagerLimits.processLogFileBytes`.
final class ProcessLogFile {
    let path: String
    private var descriptor: Int32
    private var size: Int

    init(directory: String, name: String) throws(InstanceManagerError) {
        path = "\(directory)/\(name).log"
        descriptor = -1
        size = 0
        try open()
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    func write(_ bytes: UnsafeRawBufferPointer) {
        guard descriptor >= 0, let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, base + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return  // a full disk loses log lines, never the process
            }
            offset += written
        }
        size += bytes.count
        if size >= InstanceManagerLimits.processLogFileBytes {
            close(descriptor)
            descriptor = -1
            _ = rename(path, path + ".1")
            try? open()
        }
    }

    private func open() throws(InstanceManagerError) {
        let opened = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard opened >= 0 else {
            throw InstanceManagerError(
                .internalError, "cannot open log file \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        size = fstat(opened, &info) == 0 ? Int(info.st_size) : 0
        descriptor = opened
    }
}

/// Reads a child's output on a thread of its own until every writer has closed it, into the
/// process's log and log file; then closes it and finishes the log.
func startOutputReader(descriptor: Int32, log: ProcessLog, file: ProcessLogFile?, name: String) {
    nonisolated(unsafe) let file = file  // handed to the reader thread, which alone uses it from now on
    let thread = Thread {
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            buffer.withUnsafeBytes { bytes in
                let chunk = UnsafeRawBufferPointer(rebasing: bytes[..<count])
                file?.write(chunk)
                log.append(chunk)
            }
        }
        close(descriptor)
        log.finish()
    }
    thread.name = "output \(name)"
    thread.start()
}
