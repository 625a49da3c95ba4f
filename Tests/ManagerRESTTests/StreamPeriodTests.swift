import HTTPTypes
import Testing

@testable import ManagerREST

/// The period of `/v1/ws/<period>/<name>`: Go durations, clamped as Longhorn clamps them.
@Suite struct StreamPeriodTests {
    @Test func goDurationsAreRead() {
        #expect(StreamPeriod.parse("1s") == .seconds(1))
        #expect(StreamPeriod.parse("500ms") == .milliseconds(500))
        #expect(StreamPeriod.parse("1.5s") == .milliseconds(1500))
        #expect(StreamPeriod.parse("1s250ms") == .milliseconds(1250))
        #expect(StreamPeriod.parse("0") == .zero)
        #expect(StreamPeriod.parse("0s") == .zero)
        #expect(StreamPeriod.parse("+2s") == .seconds(2))
    }

    @Test func negativeIsZeroAndLongIsTheMaximum() {
        #expect(StreamPeriod.parse("-1s") == .zero)
        #expect(StreamPeriod.parse("1m30s") == .seconds(30))
        #expect(StreamPeriod.parse("2h") == .seconds(30))
        #expect(StreamPeriod.parse("30s") == .seconds(30))
    }

    @Test func anythingElseIsRefused() {
        for text in ["", "1", "s", "1x", "fast", "1..2s", "ms1", "1s-", String(repeating: "1", count: 40) + "s"] {
            #expect(StreamPeriod.parse(Substring(text)) == nil, "\(text)")
        }
    }

    @Test func streamPaths() throws {
        let plain = try StreamPath.parse("/v1/ws/settings")?.get()
        #expect(plain == StreamPath(name: "settings", period: .seconds(1)))
        let withPeriod = try StreamPath.parse("/v1/ws/0s/nodes?x=1")?.get()
        #expect(withPeriod == StreamPath(name: "nodes", period: .zero))
        #expect(StreamPath.parse("/v1/settings") == nil)
        guard case .failure(let bad) = StreamPath.parse("/v1/ws/fast/settings") else {
            Issue.record("a bad period was accepted")
            return
        }
        #expect(bad.status == .badRequest)
        guard case .failure(let deep) = StreamPath.parse("/v1/ws/1s/2s/settings") else {
            Issue.record("a path of more parts was accepted")
            return
        }
        #expect(deep.status == .notFound)
    }
}
