import InstanceManager
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
}
