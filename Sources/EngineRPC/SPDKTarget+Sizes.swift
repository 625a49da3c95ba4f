// Sizes a client chooses, checked against the memory they would take before anything is
// allocated: an allocation this process cannot have is an error reply, never a trap in the
// allocator (a malloc bdev's memory is checked in MallocDevice itself).

import BlockDevices
import JSONRPC
import LogicalVolumes

extension SPDKTarget {
    /// What SPDK's lvol handlers answer when a blob's cluster array cannot be allocated.
    static let lvolNoMemory = JSONRPCError(code: -32602, message: "Cannot allocate memory")

    /// Refuses an lvol size whose cluster map (one entry per cluster, thin or not) the process
    /// cannot hold.
    static func checkLvolMapFits(sizeBytes: UInt64, clusterSizeBytes: Int) throws(JSONRPCError) {
        let clusterSize = UInt64(max(clusterSizeBytes, 1))
        let clusters = sizeBytes / clusterSize + (sizeBytes % clusterSize == 0 ? 0 : 1)
        let (mapBytes, overflow) = clusters.multipliedReportingOverflow(by: EngineRPCLimits.lvolMapBytesPerCluster)
        guard !overflow, SystemMemory.canAllocate(mapBytes) else { throw lvolNoMemory }
    }

    /// Refuses a cluster size whose copy-on-write buffers (one cluster each, taken at the store's
    /// first clone write) the process cannot hold: -12, as SPDK's lvstore create fails synchronously.
    static func checkCopyBuffersFit(clusterSizeBytes: UInt64) throws(JSONRPCError) {
        let (bytes, overflow) = clusterSizeBytes.multipliedReportingOverflow(by: UInt64(LvolLimits.copyOnWriteBuffers))
        guard !overflow, SystemMemory.canAllocate(bytes) else {
            throw JSONRPCError(code: -12, message: "Cannot allocate memory")
        }
    }
}
