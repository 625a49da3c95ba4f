// SPDK's own rpc.py (`spdk.spdk_rpc`, the `spdk-rpc` command of PyPI's `spdk` package, installed
// by scripts/test.sh) drives `hornbill tgt` unchanged.

import Foundation
import TestSupport
import Testing

/// Runs `python3 -m spdk.spdk_rpc -s SOCKET arguments…`; returns exit status and stdout.
private func rpcPy(_ socket: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-m", "spdk.spdk_rpc", "-s", socket] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite struct RpcPyTests {
    @Test func spdkRpcDrivesTheDaemon() throws {
        let daemon = try Daemon()
        let socket = daemon.socket
        let version = try rpcPy(socket, ["spdk_get_version"])
        try #require(version.status == 0, "spdk-rpc is missing or failed; scripts/test.sh installs it (pip install spdk)")
        #expect(version.output.contains("\"major\": 24"))
        #expect(try rpcPy(socket, ["bdev_malloc_create", "32", "512", "-b", "Malloc0"]) == (0, "Malloc0\n"))
        let store = try rpcPy(socket, ["bdev_lvol_create_lvstore", "Malloc0", "lvs", "-c", "1048576"])
        #expect(store.status == 0 && store.output.count == 37)  // a UUID and a newline
        let lvol = try rpcPy(socket, ["bdev_lvol_create", "-l", "lvs", "-t", "v", "4"])
        #expect(lvol.status == 0)
        let snapshot = try rpcPy(socket, ["bdev_lvol_snapshot", "lvs/v", "snap"])
        #expect(snapshot.status == 0)
        #expect(try rpcPy(socket, ["bdev_lvol_clone", "lvs/snap", "c"]).status == 0)
        let lvols = try rpcPy(socket, ["bdev_lvol_get_lvols"])
        #expect(lvols.status == 0 && lvols.output.contains("\"alias\": \"lvs/snap\"") && lvols.output.contains("\"is_clone\": true"))
        let stores = try rpcPy(socket, ["bdev_lvol_get_lvstores", "-l", "lvs"])
        #expect(stores.output.contains("\"total_data_clusters\": 31"))
        let bdevs = try rpcPy(socket, ["bdev_get_bdevs", "-b", "lvs/v"])
        #expect(bdevs.status == 0 && bdevs.output.contains("\"base_snapshot\": \"snap\""))
        #expect(try rpcPy(socket, ["bdev_lvol_resize", "lvs/v", "8"]).status == 0)
        #expect(try rpcPy(socket, ["bdev_lvol_rename", "lvs/c", "c2"]).status == 0)
        #expect(try rpcPy(socket, ["bdev_lvol_set_read_only", "lvs/c2"]).status == 0)
        let iostat = try rpcPy(socket, ["bdev_get_iostat", "--names", "Malloc0", "--reset-mode", "all"])
        #expect(iostat.status == 0 && iostat.output.contains("\"tick_rate\": 1000000000"))
        #expect(try rpcPy(socket, ["log_set_print_level", "ERROR"]).status == 0)
        #expect(try rpcPy(socket, ["log_get_print_level"]).output == "\"ERROR\"\n")
        #expect(try rpcPy(socket, ["rpc_get_methods"]).output.contains("bdev_lvol_snapshot"))
        // Errors come back as errors: rpc.py exits non-zero.
        #expect(try rpcPy(socket, ["bdev_malloc_delete", "nope"]).status != 0)
        #expect(try rpcPy(socket, ["bdev_lvol_delete", "lvs/snap"]).status != 0)  // two clones
        #expect(try rpcPy(socket, ["bdev_lvol_delete_lvstore", "-l", "lvs"]).status == 0)
        #expect(try rpcPy(socket, ["spdk_kill_instance", "SIGTERM"]).status == 0)
    }
}
