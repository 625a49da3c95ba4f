// One watch: replays the history after a revision, then follows live changes.
//
// Model: the watcher is registered with the hub before it first reads the history, so every
// change is either in the history it reads or offered to it live (some in both: it skips any
// revision it has already passed). While catching up it reads the history page by page; once a
// page reaches the head and no live change was dropped meanwhile, it serves its live buffer.
// Writers only append to that buffer, never wait; when it holds more than its limit (events or
// document bytes) it is emptied and the watcher reads the history again from where its consumer
// is. A consumer so slow that the history it needs was compacted gets `compacted` and lists again,
// as etcd ends a watcher that fell too far behind. Memory per watcher stays bounded either way.

import Foundation
import ManagerModel
import Synchronization

final class StoreWatcher: Sendable {
    struct Limits: Sendable {
        var bufferedEventsMax: Int
        var bufferedBytesMax: Int
    }

    private enum Mode { case catchingUp, live }

    private struct State {
        /// The highest revision taken into account: delivered, queued in `page`, or skipped.
        var position: Int64
        var mode = Mode.catchingUp
        /// Matching changes read from the history, delivered before anything live.
        var page: [ResourceEvent] = []
        var pageIndex = 0
        /// Live changes offered by writers, in revision order.
        var buffer: [ResourceEvent] = []
        var bufferIndex = 0
        var bufferedBytes = 0
        /// The buffer was emptied while a history read was under way: read again before going live.
        var droppedDuringRead = false
        var closed = false
        var cancelled = false
        var waiter: CheckedContinuation<Void, Never>?

        mutating func takeBuffered() -> ResourceEvent? {
            if pageIndex < page.count {
                defer { pageIndex += 1 }
                return page[pageIndex]
            }
            // While catching up, the history comes first: live changes may lie beyond a gap.
            guard mode == .live else { return nil }
            while bufferIndex < buffer.count {
                let event = buffer[bufferIndex]
                bufferIndex += 1
                bufferedBytes -= event.resource.document.count
                if event.revision > position {
                    position = event.revision
                    return event
                }
            }
            return nil
        }

        mutating func dropBuffer() {
            buffer.removeAll()
            bufferIndex = 0
            bufferedBytes = 0
        }

        var hasWork: Bool {
            closed || cancelled || mode == .catchingUp || pageIndex < page.count || bufferIndex < buffer.count
        }
    }

    private enum Step {
        case deliver(ResourceEvent)
        case finish
        case readHistory(after: Int64)
        case wait
    }

    private let state: Mutex<State>
    private let filter: WatchFilter
    private let limits: Limits
    private let history: ChangeHistory

    init(filter: WatchFilter, after revision: Int64, limits: Limits, history: ChangeHistory) {
        self.state = Mutex(State(position: revision))
        self.filter = filter
        self.limits = limits
        self.history = history
    }

    /// Called by a writer, after its change committed, in revision order.
    func offer(_ event: ResourceEvent) {
        guard filter.matches(event.resource) else { return }
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.closed, !state.cancelled else { return nil }
            state.buffer.append(event)
            state.bufferedBytes += event.resource.document.count
            let pending = state.buffer.count - state.bufferIndex
            if pending > limits.bufferedEventsMax || state.bufferedBytes > limits.bufferedBytesMax {
                state.dropBuffer()
                if state.mode == .live { state.mode = .catchingUp } else { state.droppedDuringRead = true }
            } else if state.bufferIndex > 64, state.bufferIndex * 2 > state.buffer.count {
                state.buffer.removeFirst(state.bufferIndex)
                state.bufferIndex = 0
            }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// The store closes: the stream ends after the event being delivered.
    func close() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            state.page = []
            state.pageIndex = 0
            state.dropBuffer()
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// The next change for the consumer; nil once the store closed or the consumer's task was
    /// cancelled.
    func next() async throws(ResourceStoreError) -> ResourceEvent? {
        while true {
            if Task.isCancelled { return nil }
            let step = state.withLock { state -> Step in
                if state.closed || state.cancelled { return .finish }
                if let event = state.takeBuffered() { return .deliver(event) }
                state.page = []
                state.pageIndex = 0
                switch state.mode {
                case .catchingUp:
                    state.droppedDuringRead = false
                    state.dropBuffer()  // what is buffered now is also in the history read next
                    return .readHistory(after: state.position)
                case .live:
                    return .wait
                }
            }
            switch step {
            case .deliver(let event):
                return event
            case .finish:
                return nil
            case .readHistory(let revision):
                let page: HistoryPage
                do {
                    page = try await history.page(after: revision, filter: filter, byteBudget: limits.bufferedBytesMax)
                } catch {
                    if state.withLock({ $0.closed }) { return nil }
                    throw error
                }
                state.withLock { state in
                    state.page = page.events
                    state.pageIndex = 0
                    state.position = max(state.position, page.lastRevision)
                    if page.reachedHead, !state.droppedDuringRead { state.mode = .live }
                }
            case .wait:
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let resumeNow = state.withLock { state -> Bool in
                            if state.hasWork { return true }
                            state.waiter = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                        state.cancelled = true
                        defer { state.waiter = nil }
                        return state.waiter
                    }
                    waiter?.resume()
                }
            }
        }
    }
}
