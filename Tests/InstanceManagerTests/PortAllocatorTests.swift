import BlockDevices
import Glibc
import InstanceManager
import TestSupport
import Testing

@Suite struct PortAllocatorTests {
    @Test func handsOutConsecutiveRunsAndTakesThemBack() throws {
        var ports = PortAllocator(range: 20001...20010)
        let replica = try ports.allocate(count: 5)
        #expect(replica == PortRange(start: 20001, end: 20005))
        let engine = try ports.allocate(count: 1)
        #expect(engine == PortRange(start: 20006, end: 20006))
        #expect(ports.allocatedCount == 6)
        ports.release(replica)
        #expect(ports.allocatedCount == 1)
        // The next search starts after the last run handed out, so a released port waits.
        #expect(try ports.allocate(count: 4) == PortRange(start: 20007, end: 20010))
        #expect(try ports.allocate(count: 5) == PortRange(start: 20001, end: 20005))
    }

    @Test func runningOutIsAClearError() throws {
        var ports = PortAllocator(range: 10000...10003)
        _ = try ports.allocate(count: 3)
        #expect(throws: PortAllocationError.self) { try ports.allocate(count: 2) }
        do {
            _ = try ports.allocate(count: 2)
        } catch {
            #expect(error.description.contains("cannot allocate 2 consecutive ports from 10000-10003"))
            #expect(error.description.contains("3 of 4 in use"))
        }
        // A failed request changes nothing.
        #expect(ports.allocatedCount == 3)
        #expect(try ports.allocate(count: 1) == PortRange(start: 10003, end: 10003))
    }

    @Test func skipsFragmentsTooSmallForTheRun() throws {
        var ports = PortAllocator(range: 1...10)
        let a = try ports.allocate(count: 2)
        _ = try ports.allocate(count: 1)
        ports.release(a)
        // 1-2 is free but too small; the run of 3 comes from 4-6.
        #expect(try ports.allocate(count: 3) == PortRange(start: 4, end: 6))
    }

    @Test func rejectsCountsOutsideTheLimit() {
        var ports = PortAllocator(range: 1...1000)
        #expect(throws: PortAllocationError.self) { try ports.allocate(count: 0) }
        #expect(throws: PortAllocationError.self) { try ports.allocate(count: -3) }
        #expect(throws: PortAllocationError.self) {
            try ports.allocate(count: InstanceManagerLimits.maxPortsPerInstance + 1)
        }
        #expect(ports.allocatedCount == 0)
    }

    @Test func reserveMarksRediscoveredPortsOnce() throws {
        var ports = PortAllocator(range: 100...109)
        try ports.reserve(PortRange(start: 100, end: 104))
        #expect(throws: PortAllocationError.self) { try ports.reserve(PortRange(start: 104, end: 105)) }
        #expect(ports.allocatedCount == 5)
        // Outside the range: nothing to mark.
        try ports.reserve(PortRange(start: 200, end: 201))
        #expect(try ports.allocate(count: 5) == PortRange(start: 105, end: 109))
        ports.release(PortRange(start: 100, end: 109))
        ports.release(PortRange(start: 100, end: 109))
        #expect(ports.allocatedCount == 0)
    }

    @Test func runsWithAPortHeldElsewhereArePassedOverAndGivenBack() throws {
        var ports = PortAllocator(range: 1...8)
        // Port 2 and 5 are held by other programs.
        let run = try ports.allocate(count: 2) { $0 != 2 && $0 != 5 }
        #expect(run == PortRange(start: 3, end: 4))
        // Only the run handed out stays allocated; the search goes on after it.
        #expect(ports.allocatedCount == 2)
        #expect(try ports.allocate(count: 1) { $0 != 5 } == PortRange(start: 6, end: 6))
        // Every run tried is held elsewhere: a clear error, and nothing stays allocated.
        do {
            _ = try ports.allocate(count: 1, attempts: 3) { _ in false }
            Issue.record("an allocation of ports all held elsewhere succeeded")
        } catch {
            #expect(error.description.contains("another program holds a port of each of the 3 runs tried"))
        }
        #expect(ports.allocatedCount == 3)
    }

    /// A listener and a client socket the kernel bound to a port of the range (the range overlaps
    /// the ephemeral one) both hold their port; the allocation passes over them.
    @Test func theProbeSeesListenersAndClientSocketsOnAPort() throws {
        let range = testPortRange()
        let listened = range.lowerBound
        let listener = try TCPSocket.listen(host: "127.0.0.1", port: UInt16(listened))
        defer { close(listener) }
        #expect(!PortProbe.isFree(port: listened, ip: "127.0.0.1"))

        // A client socket bound to the next port, connected to the listener.
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(client >= 0)
        defer { close(client) }
        func address(_ port: Int) -> sockaddr_in {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            return address
        }
        var local = address(listened + 1)
        var remote = address(listened)
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        try #require(withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(client, $0, size) } } == 0)
        try #require(withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, size) } } == 0)
        #expect(!PortProbe.isFree(port: listened + 1, ip: "127.0.0.1"))
        #expect(PortProbe.isFree(port: listened + 2, ip: "127.0.0.1"))

        var ports = PortAllocator(range: range)
        #expect(try ports.allocate(count: 1) { PortProbe.isFree(port: $0, ip: "127.0.0.1") }.start == listened + 2)
    }
}
