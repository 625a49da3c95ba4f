@testable import DataEngineV1
import Testing

@Suite struct OutstandingRequestsTests {
    @Test func aReplyFindsItsRequestOnceAndStaleOrForgedIDsAreRefused() {
        var table = OutstandingRequests<String>()
        let first = table.insert("first", tick: 3)
        let second = table.insert("second", tick: 5)
        #expect(first != second && table.count == 2)
        #expect(table.remove(first) == "first")
        #expect(table.remove(first) == nil, "an id answered twice")
        // The freed entry is reused under a new id; the old id stays refused.
        let third = table.insert("third", tick: 7)
        #expect(third & 0xFFFF_FFFF == first & 0xFFFF_FFFF && third != first)
        #expect(table.remove(first) == nil)
        #expect(table.remove(12345) == nil, "an entry that was never used")
        #expect(table.remove(second ^ (1 << 40)) == nil, "a forged generation")
        #expect(table.remove(third) == "third")
        #expect(table.remove(second) == "second")
        #expect(table.count == 0 && table.oldestTick == nil)
    }

    @Test func theOldestTickAndRemoveAllSeeOnlyOutstandingRequests() {
        var table = OutstandingRequests<Int>()
        var ids: [UInt64] = []
        for value in 0..<100 { ids.append(table.insert(value, tick: UInt64(10 + value))) }
        #expect(table.oldestTick == 10)
        for id in ids.prefix(40) { _ = table.remove(id) }
        #expect(table.oldestTick == 50 && table.count == 60)
        #expect(table.removeAll().sorted() == Array(40..<100))
        #expect(table.count == 0 && table.oldestTick == nil)
        for id in ids { #expect(table.remove(id) == nil) }
        // Emptied entries are reused: the table does not grow past its peak.
        for value in 0..<100 { #expect(table.insert(value, tick: 1) & 0xFFFF_FFFF < 100) }
        #expect(table.count == 100 && table.oldestTick == 1)
    }
}
