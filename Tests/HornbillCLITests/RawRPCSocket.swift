// A JSON-RPC client of the tests' own over a real Unix socket, for what JSONRPCClient does not
// do: writing without blocking (to find where the server stops reading), waiting for a reply
// with a deadline, and seeing the connection closed. Also the daemon's resident memory, CPU time
// and log, read from /proc and its stderr.

import Foundation
import Glibc
import JSONRPC
import Synchronization

final class RawRPCSocket {
    let fd: Int32
    private var splitter = JSONStreamSplitter(maxValueBytes: JSONRPCLimits.maxResponseBytes)

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else { throw Failure(description: "connect \(path): \(String(cString: strerror(errno)))") }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { close(fd) }

    /// Writes what the socket takes now, waiting up to `timeoutMilliseconds` for room each time it
    /// is full; returns how many bytes were written (fewer than `bytes.count` when the peer
    /// stopped reading).
    func write(_ bytes: [UInt8], timeoutMilliseconds: Int32) -> Int {
        var sent = 0
        while sent < bytes.count {
            // MSG_NOSIGNAL: a peer that closed is an error here, not a SIGPIPE for the test process.
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count > 0 {
                sent += count
                continue
            }
            guard count < 0, errno == EAGAIN || errno == EWOULDBLOCK else { return sent }
            guard wait(for: Int16(POLLOUT), timeoutMilliseconds: timeoutMilliseconds) else { return sent }
        }
        return sent
    }

    /// Sends a whole request, waiting up to 10 s for room.
    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard write(bytes, timeoutMilliseconds: 10_000) == bytes.count else { throw Failure(description: "send stalled") }
    }

    enum Received {
        case value(JSONValue)
        case closed
        case timedOut
    }

    /// The next reply, the connection closing, or nothing within `timeoutSeconds`.
    func receive(timeoutSeconds: Double) throws -> Received {
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeoutSeconds * 1000))
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let bytes = try splitter.next() {
                return .value(try JSONParser.parse(bytes, maxValues: JSONRPCLimits.maxResponseBytes))
            }
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return .closed }
            if count > 0 {
                splitter.append(chunk[0..<count])
                continue
            }
            if errno == ECONNRESET { return .closed }
            guard errno == EAGAIN || errno == EWOULDBLOCK else {
                throw Failure(description: "read: \(String(cString: strerror(errno)))")
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return .timedOut }
            let milliseconds = Int32(clamping: left.components.seconds * 1000 + 1)
            _ = wait(for: Int16(POLLIN), timeoutMilliseconds: milliseconds)
        }
    }

    /// The reply to a request, within `timeoutSeconds`.
    func call(_ text: String, timeoutSeconds: Double = 30) throws -> JSONValue {
        try send(text)
        guard case .value(let reply) = try receive(timeoutSeconds: timeoutSeconds) else {
            throw Failure(description: "no reply to \(text) within \(timeoutSeconds) s")
        }
        return reply
    }

    private func wait(for events: Int16, timeoutMilliseconds: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        return poll(&entry, 1, timeoutMilliseconds) > 0
    }
}

/// A process's resident memory in bytes (VmRSS), 0 once /proc no longer has it.
func residentBytes(_ pid: Int32) -> Int { Int(ProcessStats.residentBytes(pid) ?? 0) }

/// A process's resident memory and CPU time, from /proc.
enum ProcessStats {
    /// VmRSS in bytes.
    static func residentBytes(_ pid: Int32) -> UInt64? { statusBytes(pid, "VmRSS") }

    /// VmHWM in bytes: the most the process was ever resident.
    static func peakResidentBytes(_ pid: Int32) -> UInt64? { statusBytes(pid, "VmHWM") }

    private static func statusBytes(_ pid: Int32, _ field: String) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return line.split(separator: " ").dropFirst().first.flatMap { UInt64($0) }.map { $0 * 1024 }
        }
        return nil
    }

    /// utime + stime in clock ticks.
    static func cpuTicks(_ pid: Int32) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)": state is field 3, utime field 14, stime field 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return nil }
        return user + system
    }
}

/// Collects what a daemon writes to its stderr, as it comes.
final class LogCollector {
    let pipe = Pipe()
    private final class Buffer: Sendable {
        let text = Mutex("")
    }
    private let buffer = Buffer()

    init() {
        pipe.fileHandleForReading.readabilityHandler = { [buffer] handle in
            let data = handle.availableData
            buffer.text.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
    }

    var contents: String { buffer.text.withLock { $0 } }

    /// Lines containing `needle` now.
    func count(_ needle: String) -> Int { contents.components(separatedBy: "\n").filter { $0.contains(needle) }.count }

    /// Waits up to `seconds` for `count` lines containing `needle`.
    func waitFor(_ needle: String, count: Int, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if self.count(needle) >= count { return true }
            usleep(20_000)
        }
        return self.count(needle) >= count
    }

    deinit { pipe.fileHandleForReading.readabilityHandler = nil }
}
