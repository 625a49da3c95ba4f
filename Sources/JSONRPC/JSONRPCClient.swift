// A minimal blocking JSON-RPC client over a Unix socket, for `hornbill rpc` and tests.

import Glibc

public final class JSONRPCClient {
    private let fd: Int32
    private var splitter = JSONStreamSplitter(maxValueBytes: JSONRPCLimits.maxResponseBytes)
    private var nextID = 1

    public struct ClientError: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    public init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        // Failures below leave the socket to deinit, which runs once every stored property is
        // set: closing it here too would close whatever reused the descriptor number meanwhile.
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ClientError(description: "socket path \(path) is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            throw ClientError(description: "cannot connect to \(path): \(reason)")
        }
    }

    deinit { close(fd) }

    /// Sends raw bytes.
    public func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { throw ClientError(description: "write: \(String(cString: strerror(errno)))") }
            sent += count
        }
    }

    /// The next complete JSON value from the server, or nil when it closed the connection.
    public func receive() throws -> JSONValue? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            // A reply may hold far more values than a request (a bdev list); its size bounds it.
            if let bytes = try splitter.next() { return try JSONParser.parse(bytes, maxValues: JSONRPCLimits.maxResponseBytes) }
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return nil }
            guard count > 0 else { throw ClientError(description: "read: \(String(cString: strerror(errno)))") }
            splitter.append(chunk[0..<count])
        }
    }

    /// Calls `method` and waits for its reply.
    public func call(_ method: String, params: JSONValue? = nil) throws -> Result<JSONValue, JSONRPCError> {
        let id = nextID
        nextID += 1
        var members: [(key: String, value: JSONValue)] = [("jsonrpc", .string("2.0")), ("method", .string(method)), ("id", .integer(id))]
        if let params { members.append(("params", params)) }
        try send(JSONValue.object(members).encoded())
        guard let reply = try receive() else { throw ClientError(description: "the server closed the connection") }
        if let error = reply["error"] {
            guard case .number(let code)? = error["code"], case .string(let message)? = error["message"], let value = Int32(code) else {
                throw ClientError(description: "malformed error reply")
            }
            return .failure(JSONRPCError(code: value, message: message))
        }
        guard let result = reply["result"] else { throw ClientError(description: "reply without result") }
        return .success(result)
    }
}
