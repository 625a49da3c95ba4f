// Edge values and error paths answered exactly as SPDK answers them (docs/spdk-compatibility.md):
// resizing an lvol to 0 MiB, snapshotting a snapshot, and nvmf_* calls naming a target that
// does not exist, each through `hornbill rpc` and through SPDK's own rpc.py; then a table of
// the error codes and messages that were brought in line with SPDK's handlers.

import Foundation
import JSONRPC
import TestSupport
import Testing

private func object(_ members: [(String, JSONValue)]) -> JSONValue { .object(members.map { (key: $0.0, value: $0.1) }) }
private func string(_ text: String) -> JSONValue { .string(text) }

/// `hornbill rpc -s SOCKET METHOD PARAMS`.
private func hornbillRpc(_ socket: String, _ method: String, _ params: String? = nil) throws
    -> (status: Int32, output: String, error: String)
{
    try runHornbill(["rpc", "-s", socket, method] + (params.map { [$0] } ?? []))
}

private func number(_ value: JSONValue?) -> Int? {
    guard case .number(let text)? = value else { return nil }
    return Int(text)
}

@Suite struct SPDKEdgeValueTests {
    @Test func edgeValuesThroughHornbillRpc() throws {
        let daemon = try Daemon()
        let socket = daemon.socket
        let client = try daemon.client()
        #expect(try hornbillRpc(socket, "bdev_malloc_create", #"{"num_blocks": 65536, "block_size": 512, "name": "Malloc0"}"#).status == 0)
        #expect(try hornbillRpc(socket, "bdev_lvol_create_lvstore", #"{"bdev_name": "Malloc0", "lvs_name": "lvs", "cluster_sz": 1048576}"#).status == 0)
        func freeClusters() throws -> Int? {
            guard case .success(.array(let stores)) = try client.call("bdev_lvol_get_lvstores") else { return nil }
            return number(stores.first?["free_clusters"])
        }
        let free = try #require(try freeClusters())
        #expect(try hornbillRpc(socket, "bdev_lvol_create", #"{"lvol_name": "v", "size_in_mib": 4, "lvs_name": "lvs"}"#).status == 0)
        #expect(try freeClusters() == free - 4)

        // Resize to 0 MiB: allowed, the lvol is 0 bytes and its clusters are free again.
        let resized = try hornbillRpc(socket, "bdev_lvol_resize", #"{"name": "lvs/v", "size_in_mib": 0}"#)
        #expect(resized.status == 0 && resized.output == "true\n", "\(resized.error)")
        guard case .success(.array(let bdevs)) = try client.call("bdev_get_bdevs", params: object([("name", string("lvs/v"))])) else {
            Issue.record("bdev_get_bdevs failed")
            return
        }
        #expect(number(bdevs.first?["num_blocks"]) == 0)
        #expect(number(bdevs.first?["driver_specific"]?["lvol"]?["num_allocated_clusters"]) == 0)
        #expect(try freeClusters() == free)

        // Snapshotting a snapshot: refused, a snapshot is read-only.
        #expect(try hornbillRpc(socket, "bdev_lvol_create", #"{"lvol_name": "w", "size_in_mib": 2, "thin_provision": true, "lvs_name": "lvs"}"#).status == 0)
        #expect(try hornbillRpc(socket, "bdev_lvol_snapshot", #"{"lvol_name": "lvs/w", "snapshot_name": "snap"}"#).status == 0)
        let again = try hornbillRpc(socket, "bdev_lvol_snapshot", #"{"lvol_name": "lvs/snap", "snapshot_name": "snap2"}"#)
        #expect(again.status == 1 && again.error.contains("code -32602: Invalid argument"), "\(again.error)")
        #expect(try client.call("bdev_get_bdevs", params: object([("name", string("lvs/snap2"))])) == .failure(JSONRPCError(code: -19, message: "No such device")))

        // nvmf_* naming a target that does not exist: refused; the one target's own name works.
        #expect(try hornbillRpc(socket, "nvmf_create_transport", #"{"trtype": "TCP"}"#).status == 0)
        let unknown = try hornbillRpc(socket, "nvmf_get_subsystems", #"{"tgt_name": "other"}"#)
        #expect(unknown.status == 1 && unknown.error.contains("code -32603: Unable to find a target."), "\(unknown.error)")
        let named = try hornbillRpc(socket, "nvmf_get_subsystems", #"{"tgt_name": "nvmf_tgt"}"#)
        #expect(named.status == 0 && named.output.contains("nqn.2014-08.org.nvmexpress.discovery"))

        // An lvol something holds open (an NVMe-oF namespace) grows but does not shrink.
        let nqn = "nqn.2016-06.io.spdk:edge"
        #expect(try hornbillRpc(socket, "nvmf_create_subsystem", #"{"nqn": "\#(nqn)"}"#).status == 0)
        #expect(try hornbillRpc(socket, "nvmf_subsystem_add_ns", #"{"nqn": "\#(nqn)", "namespace": {"bdev_name": "lvs/w"}}"#).status == 0)
        let shrink = try hornbillRpc(socket, "bdev_lvol_resize", #"{"name": "lvs/w", "size_in_mib": 0}"#)
        #expect(shrink.status == 1 && shrink.error.contains("code -32602: Device or resource busy"), "\(shrink.error)")
        #expect(try hornbillRpc(socket, "bdev_lvol_resize", #"{"name": "lvs/w", "size_in_mib": 3}"#).status == 0)
        #expect(try hornbillRpc(socket, "nvmf_subsystem_remove_ns", #"{"nqn": "\#(nqn)", "nsid": 1}"#).status == 0)
        #expect(try hornbillRpc(socket, "bdev_lvol_resize", #"{"name": "lvs/w", "size_in_mib": 0}"#).status == 0)
    }

    @Test func edgeValuesThroughSPDKsRpcPy() throws {
        let daemon = try Daemon()
        let socket = daemon.socket
        try #require(try rpcPy(socket, ["bdev_malloc_create", "32", "512", "-b", "Malloc0"]).status == 0, "spdk-rpc is missing or failed")
        #expect(try rpcPy(socket, ["bdev_lvol_create_lvstore", "Malloc0", "lvs", "-c", "1048576"]).status == 0)
        #expect(try rpcPy(socket, ["bdev_lvol_create", "-l", "lvs", "v", "4"]).status == 0)
        // SPDK's own test (test/lvol/resize.sh) resizes to 0 and expects 0 blocks.
        #expect(try rpcPy(socket, ["bdev_lvol_resize", "lvs/v", "0"]).status == 0)
        let bdev = try rpcPy(socket, ["bdev_get_bdevs", "-b", "lvs/v"])
        #expect(bdev.status == 0 && bdev.output.contains("\"num_blocks\": 0,"))
        #expect(try rpcPy(socket, ["bdev_lvol_snapshot", "lvs/v", "snap"]).status == 0)
        let snapshotOfSnapshot = try rpcPy(socket, ["bdev_lvol_snapshot", "lvs/snap", "snap2"])
        #expect(snapshotOfSnapshot.status != 0)
        #expect(snapshotOfSnapshot.output.contains("\"code\": -32602") && snapshotOfSnapshot.output.contains("\"message\": \"Invalid argument\""))
        let taken = try rpcPy(socket, ["bdev_lvol_snapshot", "lvs/v", "snap"])
        #expect(taken.status != 0 && taken.output.contains("\"code\": -32602") && taken.output.contains("\"message\": \"File exists\""))

        let subsystems = try rpcPy(socket, ["nvmf_get_subsystems", "-t", "other"])
        #expect(subsystems.status != 0)
        #expect(subsystems.output.contains("\"code\": -32603") && subsystems.output.contains("\"message\": \"Unable to find a target.\""))
        let created = try rpcPy(socket, ["nvmf_create_subsystem", "nqn.2016-06.io.spdk:edge", "-t", "other"])
        #expect(created.status != 0 && created.output.contains("\"message\": \"Unable to find target other\""))
        #expect(try rpcPy(socket, ["nvmf_create_subsystem", "nqn.2016-06.io.spdk:edge", "-t", "nvmf_tgt"]).status == 0)
        #expect(try rpcPy(socket, ["nvmf_get_subsystems", "-t", "nvmf_tgt"]).output.contains("nqn.2016-06.io.spdk:edge"))
        let stats = try rpcPy(socket, ["nvmf_get_stats", "-t", "other"])
        #expect(stats.status != 0 && stats.output.contains("\"message\": \"Unable to find a target.\""))
    }

    /// Each row: a request and SPDK's answer to it (from the handler in SPDK's source).
    @Test func errorCodesAndMessagesAreSPDKs() throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        let nqn = "nqn.2016-06.io.spdk:table"
        let port = String(freeTCPPort())
        let setup: [(String, JSONValue)] = [
            ("bdev_malloc_create", object([("num_blocks", .integer(65536)), ("block_size", .integer(512)), ("name", string("Malloc0"))])),
            ("bdev_malloc_create", object([("num_blocks", .integer(65536)), ("block_size", .integer(512)), ("name", string("Malloc1"))])),
            ("bdev_lvol_create_lvstore", object([("bdev_name", string("Malloc0")), ("lvs_name", string("lvs")), ("cluster_sz", .integer(1 << 20))])),
            ("bdev_lvol_create_lvstore", object([("bdev_name", string("Malloc1")), ("lvs_name", string("lvs1")), ("cluster_sz", .integer(1 << 20))])),
            ("bdev_lvol_create", object([("lvol_name", string("v")), ("size_in_mib", .integer(2)), ("thin_provision", .bool(true)), ("lvs_name", string("lvs"))])),
            ("bdev_lvol_snapshot", object([("lvol_name", string("lvs/v")), ("snapshot_name", string("snap"))])),
            ("nvmf_create_transport", object([("trtype", string("TCP"))])),
            ("nvmf_create_subsystem", object([("nqn", string(nqn))])),
            ("nvmf_subsystem_add_host", object([("nqn", string(nqn)), ("host", string("nqn.2016-06.io.spdk:host1"))])),
        ]
        for (method, params) in setup {
            let result = try client.call(method, params: params)
            guard case .success = result else {
                Issue.record("setup \(method) failed: \(result)")
                return
            }
        }
        let address = object([("trtype", string("tcp")), ("adrfam", string("ipv4")), ("traddr", string("127.0.0.1")), ("trsvcid", string(port))])
        let invalidParameters = JSONRPCError(code: -32602, message: "Invalid parameters")
        let decodeFailed = JSONRPCError(code: -32603, message: "spdk_json_decode_object failed")
        let table: [(method: String, params: JSONValue?, answer: Result<JSONValue, JSONRPCError>)] = [
            // lvol: what SPDK checks before starting answers -errno, its callbacks -32602.
            ("bdev_lvol_snapshot", object([("lvol_name", string("lvs/snap")), ("snapshot_name", string("x"))]), .failure(JSONRPCError(code: -32602, message: "Invalid argument"))),
            ("bdev_lvol_snapshot", object([("lvol_name", string("lvs/v")), ("snapshot_name", string("snap"))]), .failure(JSONRPCError(code: -32602, message: "File exists"))),
            ("bdev_lvol_clone", object([("snapshot_name", string("lvs/snap")), ("clone_name", string("v"))]), .failure(JSONRPCError(code: -32602, message: "File exists"))),
            ("bdev_lvol_clone", object([("snapshot_name", string("lvs/v")), ("clone_name", string("c"))]), .failure(JSONRPCError(code: -32602, message: "Invalid argument"))),
            ("bdev_lvol_create", object([("lvol_name", string("v")), ("size_in_mib", .integer(1)), ("lvs_name", string("lvs"))]), .failure(JSONRPCError(code: -17, message: "File exists"))),
            ("bdev_lvol_create", object([("lvol_name", string("")), ("size_in_mib", .integer(1)), ("lvs_name", string("lvs"))]), .failure(JSONRPCError(code: -22, message: "Invalid argument"))),
            ("bdev_lvol_create", object([("lvol_name", string("n")), ("size_in_mib", .integer(1)), ("lvs_name", string("lvs")), ("clear_method", string("shred"))]), .failure(JSONRPCError(code: -22, message: "Invalid clean_method option"))),
            ("bdev_lvol_create", object([("lvol_name", string("n")), ("size_in_mib", .integer(1)), ("lvs_name", string("none")), ("clear_method", string("shred"))]), .failure(JSONRPCError(code: -19, message: "No such device"))),
            ("bdev_lvol_create_lvstore", object([("bdev_name", string("Malloc0")), ("lvs_name", string("x")), ("clear_method", string("shred"))]), .failure(JSONRPCError(code: -22, message: "Invalid clear_method parameter"))),
            ("bdev_lvol_create_lvstore", object([("bdev_name", string("Malloc9")), ("lvs_name", string(""))]), .failure(JSONRPCError(code: -22, message: "Invalid argument"))),
            ("bdev_lvol_create_lvstore", object([("bdev_name", string("Malloc9")), ("lvs_name", string("x"))]), .failure(JSONRPCError(code: -19, message: "No such device"))),
            ("bdev_lvol_create_lvstore", object([("bdev_name", string("Malloc0")), ("lvs_name", string("x"))]), .failure(JSONRPCError(code: -32602, message: "Operation not permitted"))),
            ("bdev_lvol_create_lvstore", object([("bdev_name", string("Malloc0")), ("lvs_name", string("lvs1"))]), .failure(JSONRPCError(code: -17, message: "File exists"))),
            ("bdev_lvol_rename_lvstore", object([("old_name", string("lvs1")), ("new_name", string("lvs"))]), .failure(JSONRPCError(code: -32602, message: "File exists"))),
            ("bdev_lvol_rename_lvstore", object([("old_name", string("nope")), ("new_name", string("x"))]), .failure(JSONRPCError(code: -2, message: "Lvol store nope not found"))),
            ("bdev_lvol_resize", object([("name", string("lvs/snap")), ("size_in_mib", .integer(4))]), .failure(JSONRPCError(code: -32602, message: "Operation not permitted"))),
            ("bdev_lvol_resize", object([("name", string("lvs/v")), ("size_in_mib", .integer(0))]), .success(.bool(true))),
            ("bdev_lvol_resize", object([("name", string("lvs/v")), ("size", .integer(0))]), .failure(decodeFailed)),
            // nvmf: decode failures -32602, tgt_name checked right after decoding.
            ("nvmf_get_subsystems", object([("tgt_name", string("other"))]), .failure(JSONRPCError(code: -32603, message: "Unable to find a target."))),
            ("nvmf_get_subsystems", object([("nqn", string("nqn.2016-06.io.spdk:none"))]), .failure(JSONRPCError(code: -19, message: "No such device"))),
            ("nvmf_get_subsystems", object([("bogus", .integer(1))]), .failure(invalidParameters)),
            ("nvmf_create_subsystem", object([("nqn", string("nqn.2016-06.io.spdk:x")), ("tgt_name", string("other"))]), .failure(JSONRPCError(code: -32603, message: "Unable to find target other"))),
            ("nvmf_create_subsystem", object([("nqn", string("not-an-nqn"))]), .failure(JSONRPCError(code: -32603, message: "Unable to create subsystem not-an-nqn"))),
            ("nvmf_create_subsystem", object([("nqn", string(nqn)), ("serial_number", string("much too long a serial number"))]), .failure(JSONRPCError(code: -32603, message: "Unable to create subsystem \(nqn)"))),
            ("nvmf_create_subsystem", object([("nqn", string("nqn.2016-06.io.spdk:y")), ("serial_number", string("much too long a serial number"))]), .failure(JSONRPCError(code: -32602, message: "Invalid SN much too long a serial number"))),
            ("nvmf_create_subsystem", object([("nqn", string("nqn.2016-06.io.spdk:y")), ("min_cntlid", .integer(9)), ("max_cntlid", .integer(3))]), .failure(JSONRPCError(code: -32602, message: "Invalid cntlid range [9-3]"))),
            ("nvmf_create_transport", object([("trtype", string("TCP")), ("tgt_name", string("other"))]), .failure(JSONRPCError(code: -32603, message: "Unable to find a target."))),
            ("nvmf_create_transport", object([("trtype", .integer(6))]), .failure(invalidParameters)),
            // Decoded first, then the target, then whether the transport exists, then the values.
            ("nvmf_create_transport", object([("trtype", string("TCP")), ("tgt_name", string("other")), ("max_queue_depth", string("deep"))]), .failure(invalidParameters)),
            ("nvmf_create_transport", object([("trtype", string("TCP")), ("max_queue_depth", .integer(1))]), .failure(JSONRPCError(code: -32603, message: "Transport type 'TCP' already exists"))),
            ("nvmf_create_transport", object([("trtype", string("RDMA")), ("tgt_name", string("other"))]), .failure(JSONRPCError(code: -32603, message: "Unable to find a target."))),
            ("nvmf_create_transport", object([("trtype", string("RDMA"))]), .failure(JSONRPCError(code: -32602, message: "Invalid transport type 'RDMA'"))),
            ("nvmf_get_transports", object([("tgt_name", string("other"))]), .failure(JSONRPCError(code: -32603, message: "Unable to find a target."))),
            ("nvmf_get_stats", object([("tgt_name", string("other"))]), .failure(JSONRPCError(code: -32603, message: "Unable to find a target."))),
            ("nvmf_subsystem_get_controllers", object([("nqn", string(nqn)), ("tgt_name", string("other"))]), .failure(JSONRPCError(code: -32603, message: "Unable to find a target"))),
            ("nvmf_subsystem_get_qpairs", object([("nqn", string(nqn)), ("tgt_name", string("nvmf_tgt"))]), .success(.array([]))),
            ("nvmf_subsystem_add_ns", object([("nqn", string(nqn)), ("tgt_name", string("other")), ("namespace", object([("bdev_name", string("lvs/v"))]))]), .failure(JSONRPCError(code: -32603, message: "Unable to find a target."))),
            ("nvmf_subsystem_add_ns", object([("nqn", string(nqn)), ("namespace", object([("bdev_name", string("lvs/v")), ("bogus", .integer(1))]))]), .failure(invalidParameters)),
            ("nvmf_subsystem_add_ns", object([("nqn", string("nqn.2016-06.io.spdk:none")), ("namespace", object([("bdev_name", string("lvs/v"))]))]), .failure(invalidParameters)),
            ("nvmf_delete_subsystem", object([("nqn", string(nqn)), ("bogus", .integer(1))]), .failure(invalidParameters)),
            ("nvmf_subsystem_add_listener", object([("nqn", string(nqn)), ("listen_address", address), ("ana_state", string("best"))]), .failure(invalidParameters)),
            // add_listener ignores keys it does not know; remove_listener does not.
            ("nvmf_subsystem_add_listener", object([("nqn", string(nqn)), ("listen_address", address), ("bogus", .integer(1))]), .success(.bool(true))),
            ("nvmf_subsystem_remove_listener", object([("nqn", string(nqn)), ("listen_address", address), ("bogus", .integer(1))]), .failure(invalidParameters)),
            ("nvmf_subsystem_listener_set_ana_state", object([("nqn", string("nqn.2016-06.io.spdk:none")), ("listen_address", address), ("ana_state", string("optimized"))]), .failure(JSONRPCError(code: -32602, message: "Unable to find subsystem with NQN nqn.2016-06.io.spdk:none"))),
            ("nvmf_subsystem_listener_set_ana_state", object([("nqn", string(nqn)), ("listen_address", address), ("ana_state", string("optimized"))]), .failure(JSONRPCError(code: -32603, message: "error setting ANA state: -22"))),
            ("nvmf_subsystem_add_host", object([("nqn", string(nqn)), ("host", string("nqn.2016-06.io.spdk:host1"))]), .failure(JSONRPCError(code: -32603, message: "Internal error"))),
            ("nvmf_subsystem_remove_host", object([("nqn", string(nqn)), ("host", string("nqn.2016-06.io.spdk:host9"))]), .failure(JSONRPCError(code: -32603, message: "Internal error"))),
            ("nvmf_subsystem_allow_any_host", object([("nqn", string(nqn))]), .failure(invalidParameters)),
            // framework, log, bdev
            ("spdk_kill_instance", object([("sig_name", string("SIGFOO"))]), .failure(invalidParameters)),
            ("spdk_kill_instance", nil, .failure(invalidParameters)),
            ("rpc_get_methods", object([("bogus", .bool(true))]), .failure(invalidParameters)),
            ("log_set_level", object([("level", string("LOUD"))]), .failure(JSONRPCError(code: -32602, message: "invalid log level"))),
            ("log_set_flag", object([("flag", string("nope"))]), .failure(JSONRPCError(code: -32602, message: "invalid log flag"))),
            ("log_set_flag", nil, .failure(decodeFailed)),
            ("log_get_flags", object([("x", .integer(1))]), .failure(JSONRPCError(code: -32602, message: "log_get_flags requires no parameters"))),
            ("log_get_level", object([("x", .integer(1))]), .failure(JSONRPCError(code: -32602, message: "log_get_level requires no parameters"))),
            ("bdev_wait_for_examine", object([("x", .integer(1))]), .failure(JSONRPCError(code: -32602, message: "bdev_wait_for_examine requires no parameters"))),
            ("framework_wait_init", object([("x", .integer(1))]), .success(.bool(true))),
            ("bdev_examine", object([]), .failure(JSONRPCError(code: -32602, message: "spdk_json_decode_object failed"))),
            ("bdev_set_qos_limit", object([("name", string("Malloc0"))]), .failure(JSONRPCError(code: -22, message: "No rate limits specified"))),
            ("bdev_set_qos_limit", object([("name", string("Malloc0")), ("rw_ios_per_sec", .integer(1500))]), .success(.bool(true))),
            ("bdev_malloc_create", object([("num_blocks", .integer(8)), ("block_size", .integer(512)), ("uuid", string("not-a-uuid"))]), .failure(decodeFailed)),
            ("bdev_aio_create", object([("name", string("a")), ("filename", string("/nonexistent")), ("uuid", string("not-a-uuid"))]), .failure(decodeFailed)),
            ("bdev_nvme_attach_controller", object([("name", string("N")), ("trtype", string("tcp")), ("traddr", string("127.0.0.1")), ("multipath", string("sometimes"))]), .failure(decodeFailed)),
            ("bdev_nvme_reset_controller", object([("name", string("N")), ("bogus", .integer(1))]), .failure(JSONRPCError(code: -32602, message: "Invalid argument"))),
            ("bdev_nvme_reset_controller", object([("name", string("N"))]), .failure(JSONRPCError(code: -19, message: "No such device"))),
            ("bdev_nvme_get_controllers", object([("name", string("N"))]), .failure(JSONRPCError(code: 22, message: "Controller N does not exist"))),
            ("bdev_nvme_attach_controller", object([("name", string("N")), ("trtype", string("tcp")), ("traddr", string("127.0.0.1")), ("adrfam", string("ipx"))]), .failure(JSONRPCError(code: -22, message: "Failed to parse adrfam: ipx"))),
        ]
        for row in table {
            #expect(try client.call(row.method, params: row.params) == row.answer, "\(row.method) \(row.params.map { String(decoding: $0.encoded(), as: UTF8.self) } ?? "")")
        }
        // The IOPS limit in between steps of 1000 was rounded up, as SPDK does.
        guard case .success(.array(let bdevs)) = try client.call("bdev_get_bdevs", params: object([("name", string("Malloc0"))])) else {
            Issue.record("bdev_get_bdevs failed")
            return
        }
        #expect(number(bdevs.first?["assigned_rate_limits"]?["rw_ios_per_sec"]) == 2000)
    }
}
