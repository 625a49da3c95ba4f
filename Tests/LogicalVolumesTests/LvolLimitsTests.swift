import BlockCore
import LogicalVolumes
import Testing

@Suite struct LvolLimitsTests {
    @Test func limitsHangTogether() {
        #expect(LvolLimits.minClusterSize == LvolLimits.metadataPageSize)
        #expect(LvolLimits.defaultClusterSize % LvolLimits.minClusterSize == 0)
        #expect(LvolLimits.maxClusterSize >= LvolLimits.defaultClusterSize)
        #expect(LvolLimits.defaultClusterSize <= BlockLimits.maxIOBytes)  // one copy-on-write I/O
        #expect(LvolLimits.maxNameBytes == 255)  // SPDK's fork
        #expect(LvolLimits.maxClusters < UInt64(UInt32.max))  // 32-bit cluster numbers, one sentinel
        #expect(ClearMethod(spdkName: "WRITE_ZEROES") == .writeZeroes)
        #expect(ClearMethod(spdkName: "zero") == nil)
    }
}
