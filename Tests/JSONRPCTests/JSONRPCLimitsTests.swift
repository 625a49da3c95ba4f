import JSONRPC
import Testing

@Suite struct JSONRPCLimitsTests {
    @Test func limitsHangTogether() {
        // A request fits in a response, and a read chunk is a part of a request.
        #expect(JSONRPCLimits.maxRequestBytes < JSONRPCLimits.maxResponseBytes)
        #expect(JSONRPCLimits.readChunkBytes <= JSONRPCLimits.maxRequestBytes)
        // Reading resumes below where it paused.
        #expect(JSONRPCLimits.resumeQueuedReplyBytesPerConnection < JSONRPCLimits.maxQueuedReplyBytesPerConnection)
        // Nesting is bounded well inside the value count, so depth bounds recursion.
        #expect(JSONRPCLimits.maxDepth < JSONRPCLimits.maxValuesPerRequest)
        #expect(JSONRPCLimits.maxRequestsInFlightPerConnection >= 1)
        #expect(JSONRPCLimits.maxConnections == 64)
    }
}
