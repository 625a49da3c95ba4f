// Port allocation for instances: a bitmap over one range, as Longhorn's instance manager keeps
// one over `--port-range` for V1 processes and one over `--spdk-port-range` for V2 instances.
// An instance gets a run of consecutive ports (`port_start`…`port_end`) and gives all of them back
// when it is deleted. Allocation is first fit from the port after the last one handed out, so a
// port just released is not handed to the next instance at once (a client of the old instance may
// still be connecting to it).

import StorageKit

/// Why a port request failed.
public struct PortAllocationError: Error, Equatable, CustomStringConvertible {
    public var description: String
}

/// A run of consecutive ports, both ends included.
public struct PortRange: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var start: Int
    public var end: Int
    public var count: Int { end - start + 1 }
    public var description: String { "\(start)-\(end)" }
    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }
}

/// A bitmap of the ports of one range. A value type: its owner (an actor) serialises access.
public struct PortAllocator: Sendable {
    public let range: ClosedRange<Int>
    private var used: Bitset
    private var nextSearch = 0

    public init(range: ClosedRange<Int>) {
        self.range = range
        self.used = Bitset(count: range.count)
    }

    /// Ports handed out and not yet released.
    public var allocatedCount: Int { used.setCount }

    /// `count` consecutive free ports.
    public mutating func allocate(count: Int) throws(PortAllocationError) -> PortRange {
        guard count >= 1, count <= InstanceManagerLimits.maxPortsPerInstance else {
            throw PortAllocationError(
                description: "invalid port count \(count): must be 1 to \(InstanceManagerLimits.maxPortsPerInstance)")
        }
        // Search from the rotating start to the end, then from the beginning.
        for origin in [nextSearch, 0] {
            if let first = firstRun(of: count, from: origin) {
                for index in first..<(first + count) { used[index] = true }
                nextSearch = first + count < used.count ? first + count : 0
                return PortRange(start: range.lowerBound + first, end: range.lowerBound + first + count - 1)
            }
            if origin == 0 { break }
        }
        throw PortAllocationError(
            description: "cannot allocate \(count) consecutive ports from \(range.lowerBound)-\(range.upperBound): "
                + "\(used.setCount) of \(range.count) in use")
    }

    /// `count` consecutive free ports every one of which `usable` accepts (PortProbe.isFree: no
    /// other program holds it). A run with a port held elsewhere is passed over, and given back
    /// once the search ends, so the search goes on after it; at most `attempts` runs are tried.
    public mutating func allocate(
        count: Int, attempts: Int = InstanceManagerLimits.portRunAttempts, usable: (Int) -> Bool
    ) throws(PortAllocationError) -> PortRange {
        var passedOver: [PortRange] = []
        defer { for run in passedOver { release(run) } }
        for _ in 0..<max(attempts, 1) {
            let run = try allocate(count: count)
            if (run.start...run.end).allSatisfy(usable) { return run }
            passedOver.append(run)
        }
        throw PortAllocationError(
            description: "cannot allocate \(count) consecutive ports from \(range.lowerBound)-\(range.upperBound): "
                + "another program holds a port of each of the \(passedOver.count) runs tried (\(passedOver.map(\.description).joined(separator: ", ")))")
    }

    /// Marks ports that an instance found at start-up already holds (rediscovery), so they are
    /// not handed out twice. Ports outside the range are ignored; already-marked ones are an error.
    public mutating func reserve(_ ports: PortRange) throws(PortAllocationError) {
        guard ports.start <= ports.end else {
            throw PortAllocationError(description: "invalid port range \(ports)")
        }
        let low = max(ports.start, range.lowerBound)
        let high = min(ports.end, range.upperBound)
        guard low <= high else { return }
        let indices = (low - range.lowerBound)...(high - range.lowerBound)
        if let taken = indices.first(where: { used[$0] }) {
            throw PortAllocationError(description: "port \(range.lowerBound + taken) is already allocated")
        }
        for index in indices { used[index] = true }
    }

    /// Gives ports back. Releasing a port twice, or one outside the range, changes nothing.
    public mutating func release(_ ports: PortRange) {
        guard ports.start <= ports.end else { return }
        let low = max(ports.start, range.lowerBound)
        let high = min(ports.end, range.upperBound)
        guard low <= high else { return }
        for port in low...high { used[port - range.lowerBound] = false }
    }

    /// The lowest index at or after `origin` that starts `count` clear bits.
    private func firstRun(of count: Int, from origin: Int) -> Int? {
        var candidate = origin
        while let start = used.firstClear(from: candidate) {
            guard start + count <= used.count else { return nil }
            if let blocked = (start..<(start + count)).first(where: { used[$0] }) {
                candidate = blocked + 1
                continue
            }
            return start
        }
        return nil
    }
}
