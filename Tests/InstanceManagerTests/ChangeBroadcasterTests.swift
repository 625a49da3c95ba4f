import InstanceManager
import Testing

@Suite struct ChangeBroadcasterTests {
    @Test func everySubscriberHearsOfAChange() async {
        let changes = ChangeBroadcaster()
        let first = changes.subscribe()
        let second = changes.subscribe()
        changes.notify()
        var a = first.makeAsyncIterator()
        var b = second.makeAsyncIterator()
        #expect(await a.next() != nil)
        #expect(await b.next() != nil)
    }

    @Test func aBurstCoalescesForASlowWatcher() async {
        let changes = ChangeBroadcaster()
        let stream = changes.subscribe()
        for _ in 0..<1000 { changes.notify() }
        changes.finish()
        var received = 0
        for await _ in stream { received += 1 }
        #expect(received == 1)
    }

    @Test func aWatcherThatGoesAwayIsForgotten() async {
        let changes = ChangeBroadcaster()
        do {
            let stream = changes.subscribe()
            let task = Task {
                for await _ in stream { break }
            }
            changes.notify()
            await task.value
        }
        // The iterator ended with the task; the stream's termination removed the subscriber.
        for _ in 0..<100 where changes.subscriberCount > 0 { await Task.yield() }
        #expect(changes.subscriberCount == 0)
    }
}
