@testable import ManagerControllers
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
}
