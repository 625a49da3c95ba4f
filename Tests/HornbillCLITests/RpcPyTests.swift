// SPDK's own rpc.py (`spdk.spdk_rpc`, the `spdk-rpc` command of PyPI's `spdk` package, installed
// by scripts/test.sh) drives `hornbill tgt` unchanged.

import Foundation
import TestSupport
import Testing

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

    @Test func spdkRpcDeletesAMallocBdevUnderAnLvstore() throws {
        let daemon = try Daemon()
        let socket = daemon.socket
        try #require(try rpcPy(socket, ["spdk_get_version"]).status == 0, "spdk-rpc is missing; scripts/test.sh installs it")
        #expect(try rpcPy(socket, ["bdev_malloc_create", "32", "4096", "-b", "Malloc0"]) == (0, "Malloc0\n"))
        #expect(try rpcPy(socket, ["bdev_lvol_create_lvstore", "Malloc0", "lvs", "-c", "1048576"]).status == 0)
        #expect(try rpcPy(socket, ["bdev_lvol_create", "-l", "lvs", "-t", "v", "4"]).status == 0)
        // As on SPDK: the delete is a hot remove, not refused; the lvstore and its lvol go with it.
        #expect(try rpcPy(socket, ["bdev_malloc_delete", "Malloc0"]).status == 0)
        #expect(try rpcPy(socket, ["bdev_lvol_get_lvstores"]).output == "[]\n")
        #expect(try rpcPy(socket, ["bdev_get_bdevs", "-b", "lvs/v"]).status != 0)
        #expect(try rpcPy(socket, ["bdev_get_bdevs"]).output == "[]\n")
    }

    @Test func spdkRpcDrivesNVMeOverTCPAndRAID1() throws {
        let daemon = try Daemon()
        let socket = daemon.socket
        let port = String(freeTCPPort())
        let nqn = "nqn.2023-01.io.hornbill:rpcpy"
        try #require(try rpcPy(socket, ["bdev_malloc_create", "16", "4096", "-b", "Malloc0"]).status == 0, "spdk-rpc is missing or failed")
        #expect(try rpcPy(socket, ["bdev_malloc_create", "16", "4096", "-b", "Malloc1"]).status == 0)
        #expect(try rpcPy(socket, ["nvmf_create_transport", "-t", "TCP", "-q", "64", "-m", "8", "-c", "8192"]).status == 0)
        #expect(try rpcPy(socket, ["nvmf_create_transport", "-t", "TCP"]).status != 0)  // exists
        let transports = try rpcPy(socket, ["nvmf_get_transports"])
        #expect(transports.output.contains("\"trtype\": \"TCP\"") && transports.output.contains("\"in_capsule_data_size\": 8192"))
        #expect(try rpcPy(socket, ["nvmf_create_subsystem", nqn, "-a", "-s", "HORNBILL0001", "-d", "Hornbill volume"]).status == 0)
        #expect(try rpcPy(socket, ["nvmf_create_subsystem", nqn]).status != 0)  // duplicate
        #expect(try rpcPy(socket, ["nvmf_subsystem_add_ns", nqn, "Malloc0"]).status == 0)
        #expect(try rpcPy(socket, ["nvmf_subsystem_add_listener", nqn, "-t", "tcp", "-a", "127.0.0.1", "-s", port, "-f", "ipv4"]).status == 0)
        let subsystems = try rpcPy(socket, ["nvmf_get_subsystems"])
        #expect(subsystems.output.contains("\"bdev_name\": \"Malloc0\"") && subsystems.output.contains("\"serial_number\": \"HORNBILL0001\""))
        let listeners = try rpcPy(socket, ["nvmf_subsystem_get_listeners", nqn])
        #expect(listeners.output.contains("\"trsvcid\": \"\(port)\""))
        // The daemon attaches to its own export as an NVMe/TCP host.
        let attached = try rpcPy(socket, ["bdev_nvme_attach_controller", "-b", "Nvme0", "-t", "tcp", "-a", "127.0.0.1", "-s", port, "-f", "ipv4", "-n", nqn])
        #expect(attached == (0, "Nvme0n1\n"))
        let nvmeBdev = try rpcPy(socket, ["bdev_get_bdevs", "-b", "Nvme0n1"])
        #expect(nvmeBdev.output.contains("\"product_name\": \"NVMe disk\"") && nvmeBdev.output.contains("\"num_blocks\": 4096"))
        let controllers = try rpcPy(socket, ["bdev_nvme_get_controllers"])
        #expect(controllers.output.contains("\"state\": \"enabled\"") && controllers.output.contains("\"subnqn\": \"\(nqn)\""))
        #expect(try rpcPy(socket, ["nvmf_subsystem_get_controllers", nqn]).output.contains("\"num_io_qpairs\": 1"))
        #expect(try rpcPy(socket, ["nvmf_subsystem_get_qpairs", nqn]).output.contains("\"qid\": 1"))
        // A RAID1 of a local bdev and the NVMe/TCP one.
        #expect(try rpcPy(socket, ["bdev_raid_create", "-n", "Raid0", "-r", "raid1", "-b", "Malloc1 Nvme0n1"]).status == 0)
        let raid = try rpcPy(socket, ["bdev_raid_get_bdevs", "all"])
        #expect(raid.output.contains("\"num_base_bdevs_operational\": 2") && raid.output.contains("\"state\": \"online\""))
        #expect(try rpcPy(socket, ["bdev_raid_remove_base_bdev", "Nvme0n1"]).status == 0)
        #expect(try rpcPy(socket, ["bdev_raid_get_bdevs", "online"]).output.contains("\"num_base_bdevs_operational\": 1"))
        #expect(try rpcPy(socket, ["bdev_raid_delete", "Raid0"]).status == 0)
        #expect(try rpcPy(socket, ["bdev_nvme_detach_controller", "Nvme0"]).status == 0)
        #expect(try rpcPy(socket, ["bdev_get_bdevs", "-b", "Nvme0n1"]).status != 0)
        #expect(try rpcPy(socket, ["nvmf_subsystem_remove_listener", nqn, "-t", "tcp", "-a", "127.0.0.1", "-s", port, "-f", "ipv4"]).status == 0)
        #expect(try rpcPy(socket, ["nvmf_subsystem_remove_ns", nqn, "1"]).status == 0)
        #expect(try rpcPy(socket, ["nvmf_delete_subsystem", nqn]).status == 0)
        #expect(try rpcPy(socket, ["nvmf_get_stats"]).output.contains("\"io_qpairs\": 1"))
    }
}
