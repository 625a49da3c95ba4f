import Foundation
import TestSupport
import Testing

/// Runs the built `hornbill` with `arguments`; returns exit status, stdout and stderr.
func runHornbill(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
    let process = Process()
    process.executableURL = builtProduct("hornbill")
    process.arguments = arguments
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
}

@Suite struct PerfCommandTests {
    @Test func jsonReportOnMalloc() throws {
        let result = try runHornbill(["perf", "-d", "malloc:64", "-w", "randrw", "-M", "50", "-q", "4", "-t", "0.3", "--json"])
        #expect(result.status == 0, "\(result.error)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(object["workload"] as? String == "randrw")
        #expect(object["queue_depth"] as? Int == 4)
        #expect((object["iops"] as? Double ?? 0) > 0)
        let latency = try #require(object["latency_us"] as? [String: Double])
        #expect(latency["p50"]! <= latency["p99"]! && latency["p99"]! <= latency["p99_9"]!)
    }

    @Test func textReportOnAThinLvolInAFile() throws {
        let file = try TemporaryFile(size: 48 << 20)
        let result = try runHornbill(["perf", "-d", "lvol:\(file.path)", "-w", "randwrite", "-q", "8", "-t", "0.3", "--cluster-size", "1048576"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("Logical Volume"))
        #expect(result.output.contains("IOPS"))
        #expect(result.output.contains("bytes per GiB of volume"))
    }

    /// The lvstore perf creates clears its data region only when asked (every cluster is written
    /// before measuring anyway); each clear method still gives a working run.
    @Test func lvolClearMethods() throws {
        let file = try TemporaryFile(size: 48 << 20)
        for method in ["none", "unmap", "write_zeroes"] {
            let result = try runHornbill([
                "perf", "-d", "lvol:\(file.path)", "-w", "randwrite", "-q", "2", "-t", "0.2", "--cluster-size", "1048576",
                "--clear-method", method, "--json",
            ])
            #expect(result.status == 0, "\(method): \(result.error)")
            let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
            #expect((object?["ios"] as? Int ?? 0) > 0, "\(method)")
        }
    }

    @Test func badArgumentsAreRefusedClearly() throws {
        let unknown = try runHornbill(["perf", "-d", "floppy:1", "-t", "0.1"])
        #expect(unknown.status != 0)
        #expect(unknown.error.contains("unknown device kind floppy"))
        let missing = try runHornbill(["perf", "-d", "aio:/nonexistent/disk.img", "-t", "0.1"])
        #expect(missing.status != 0)
        #expect(missing.error.contains("/nonexistent/disk.img"))
        let depth = try runHornbill(["perf", "-d", "malloc:8", "-q", "0"])
        #expect(depth.status != 0)
        #expect(depth.error.contains("queue-depth"))
        let poll = try runHornbill(["perf", "-d", "malloc:8", "--poll-us=-1"])
        #expect(poll.status != 0)
        #expect(poll.error.contains("--poll-us must be 0...1000000"))
        let clear = try runHornbill(["perf", "-d", "lvol:/tmp/unused.img", "--clear-method", "shred"])
        #expect(clear.status != 0)
        #expect(clear.error.contains("--clear-method must be none, unmap or write_zeroes"))
    }
}
