import BlockCore
import BlockDevices
import Testing

@Suite struct IOBufferPoolTests {
    @Test func buffersAreAlignedAndReused() {
        let pool = IOBufferPool(bufferSize: 8192, capacity: 2)
        let first = pool.tryAcquire()!
        #expect(UInt(bitPattern: first.bytes.baseAddress!) % UInt(BlockLimits.bufferAlignment) == 0)
        let second = pool.tryAcquire()!
        #expect(pool.tryAcquire() == nil)
        pool.release(first)
        #expect(pool.tryAcquire() === first)
        pool.release(first)
        pool.release(second)
        #expect(pool.available == 2)
    }

    @Test func anEmptyPoolParksUntilARelease() async throws {
        let reactor = try Reactor(name: "pool")
        defer { reactor.shutdown() }
        let order = await reactor.run {
            // The pool belongs to this reactor; every task below runs on it.
            let box = PoolBox(pool: IOBufferPool(bufferSize: 4096, capacity: 1))
            let pool = box.pool
            let held = await pool.acquire()
            var order: [String] = []
            await withTaskGroup(of: String.self) { group in
                group.addTask {
                    let buffer = await box.pool.acquire()  // parks: the only buffer is held
                    box.pool.release(buffer)
                    return "waiter got a buffer"
                }
                await Task.yield()
                order.append("releasing")
                pool.release(held)
                for await event in group { order.append(event) }
            }
            return order
        }
        #expect(order == ["releasing", "waiter got a buffer"])
    }
}

/// Hands a reactor-confined pool to child tasks on the same reactor.
private final class PoolBox: @unchecked Sendable {
    let pool: IOBufferPool
    init(pool: IOBufferPool) { self.pool = pool }
}
