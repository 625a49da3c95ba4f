@testable import ManagerControllers
import ManagerModel
import Testing

/// Changes an instance manager announces while the last one is still being looked at are folded
/// into one: `opened` and `closed` (look at everything) are never lost to a `changed`.
@Suite struct InstanceManagerWatchTests {
    typealias Change = InstanceManagerWatch.Change

    private func folded(_ changes: [Change]) -> Change? {
        let pending = InstanceManagerWatch.PendingChange()
        for change in changes { pending.fold(change) }
        return pending.take()
    }

    @Test func aBurstOfChangesIsOneLook() {
        #expect(folded([]) == nil)
        #expect(folded([.changed, .changed, .changed]) == .changed)
        let pending = InstanceManagerWatch.PendingChange()
        pending.fold(.changed)
        #expect(pending.take() == .changed)
        #expect(pending.take() == nil)
    }

    @Test func openingAndClosingWinOverChangesAndTheNewerOfThemWins() {
        #expect(folded([.opened, .changed]) == .opened)
        #expect(folded([.changed, .closed, .changed]) == .closed)
        #expect(folded([.closed, .opened, .changed]) == .opened)
        #expect(folded([.opened, .changed, .closed]) == .closed)
    }

    /// Updates a busy handler has not taken yet become one: the list before the first, the list
    /// after the last, so the names that changed across all of them are found.
    @Test func updatesFoldIntoTheFirstListBeforeAndTheLastAfter() {
        var first = InstanceManagerInstances()
        first.replicas["a"] = InstanceProcess(spec: InstanceProcessSpec())
        var second = first
        second.replicas["b"] = InstanceProcess(spec: InstanceProcessSpec())
        var third = second
        third.replicas["a"] = nil
        let one = InstanceUpdate(change: .changed, now: second, before: first)
        let two = InstanceUpdate(change: .changed, now: third, before: second)
        let folded = one.followed(by: two)
        #expect(folded.change == .changed && folded.before == first && folded.now == third)
        #expect(folded.now?.changedNames(ofType: "replica", since: first) == ["a", "b"])
        // A close in between is not lost: the handler looks at everything.
        let closed = InstanceUpdate(change: .closed, now: nil, before: second)
        #expect(one.followed(by: closed).followed(by: two).change == .closed)
    }
}
