import Foundation
import JSONRPC
import TestSupport
import Testing

private func object(_ members: [(String, JSONValue)]) -> JSONValue { .object(members.map { (key: $0.0, value: $0.1) }) }
private func string(_ text: String) -> JSONValue { .string(text) }

@Suite struct TgtLvolTests {
    @Test func lvolMethodsShapesErrorsAndPersistenceAcrossSIGKILL() throws {
        let file = try TemporaryFile(size: 128 << 20)
        var daemon = try Daemon()
        var client = try daemon.client()
        #expect(try client.call("bdev_aio_create", params: object([("name", string("aio0")), ("filename", string(file.path)), ("block_size", .integer(4096))])) == .success(string("aio0")))
        #expect(try client.call("bdev_lvol_create_lvstore", params: object([("bdev_name", string("aio0")), ("lvs_name", string("lvs")), ("clear_method", string("FANCY"))])) == .failure(JSONRPCError(code: -22, message: "Invalid clear_method parameter")))
        guard case .success(.string(let storeUUID)) = try client.call("bdev_lvol_create_lvstore", params: object([("bdev_name", string("aio0")), ("lvs_name", string("lvs")), ("cluster_sz", .integer(1 << 20))])) else {
            Issue.record("create_lvstore failed")
            return
        }
        guard case .success(.array(let stores)) = try client.call("bdev_lvol_get_lvstores", params: object([("lvs_name", string("lvs"))])), let store = stores.first else {
            Issue.record("get_lvstores failed")
            return
        }
        #expect(store["uuid"] == string(storeUUID) && store["base_bdev"] == string("aio0"))
        #expect(store["cluster_size"] == .integer(1 << 20) && store["block_size"] == .integer(4096))
        #expect(store["free_clusters"] == store["total_data_clusters"])
        #expect(try client.call("bdev_lvol_get_lvstores", params: object([("lvs_name", string("lvs")), ("uuid", string(storeUUID))])) == .failure(JSONRPCError(code: -22, message: "Invalid argument")))

        guard case .success(.string(let headUUID)) = try client.call("bdev_lvol_create", params: object([("lvol_name", string("r1")), ("size_in_mib", .integer(10)), ("thin_provision", .bool(true)), ("lvs_name", string("lvs"))])) else {
            Issue.record("bdev_lvol_create failed")
            return
        }
        #expect(try client.call("bdev_lvol_create", params: object([("lvol_name", string("r1")), ("size_in_mib", .integer(1)), ("lvs_name", string("lvs"))])) == .failure(JSONRPCError(code: -17, message: "File exists")))
        #expect(try client.call("bdev_lvol_set_xattr", params: object([("name", string("lvs/r1")), ("xattr_name", string("user_created")), ("xattr_value", string("true"))])) == .success(.bool(true)))
        guard case .success(.string(let snapshotUUID)) = try client.call("bdev_lvol_snapshot", params: object([("lvol_name", string("lvs/r1")), ("snapshot_name", string("r1-snap-a")), ("xattrs", object([("snapshot_timestamp", string("2026-11-25T00:00:00Z"))]))])) else {
            Issue.record("snapshot failed")
            return
        }
        #expect(try client.call("bdev_lvol_set_xattr", params: object([("name", string(snapshotUUID)), ("xattr_name", string("k")), ("xattr_value", string("v"))])) == .failure(JSONRPCError(code: -32602, message: "Operation not permitted")))
        #expect(try client.call("bdev_lvol_get_xattr", params: object([("name", string("lvs/r1")), ("xattr_name", string("missing"))])) == .failure(JSONRPCError(code: -32603, message: "No such file or directory")))
        _ = try client.call("bdev_lvol_clone", params: object([("snapshot_name", string("lvs/r1-snap-a")), ("clone_name", string("c1"))]))
        #expect(try client.call("bdev_lvol_delete", params: object([("name", string("lvs/r1-snap-a"))])) == .failure(JSONRPCError(code: -16, message: "Device or resource busy")))
        #expect(try client.call("bdev_lvol_delete", params: object([("name", string("lvs/nope"))])) == .failure(JSONRPCError(code: -19, message: "No such device")))
        #expect(try client.call("bdev_lvol_resize", params: object([("name", string("lvs/r1")), ("size_in_mib", .integer(20))])) == .success(.bool(true)))

        // Kill the daemon without warning; a new one brings everything back on bdev_aio_create.
        kill(daemon.process.processIdentifier, SIGKILL)
        daemon.process.waitUntilExit()
        daemon = try Daemon()
        client = try daemon.client()
        #expect(try client.call("bdev_aio_create", params: object([("name", string("aio0")), ("filename", string(file.path)), ("block_size", .integer(4096))])) == .success(string("aio0")))
        guard case .success(.array(let lvols)) = try client.call("bdev_lvol_get_lvols") else {
            Issue.record("get_lvols failed")
            return
        }
        let aliases = lvols.compactMap { lvol -> String? in
            if case .string(let alias)? = lvol["alias"] { return alias }
            return nil
        }
        #expect(Set(aliases) == ["lvs/r1", "lvs/r1-snap-a", "lvs/c1"])
        guard case .success(.array(let heads)) = try client.call("bdev_get_bdevs", params: object([("name", string("lvs/r1"))])), let head = heads.first else {
            Issue.record("the head did not come back")
            return
        }
        #expect(head["name"] == string(headUUID))
        #expect(head["num_blocks"] == .integer(20 * 256))
        #expect(head["driver_specific"]?["lvol"]?["base_snapshot"] == string("r1-snap-a"))
        #expect(try client.call("bdev_lvol_get_xattr", params: object([("name", string("lvs/r1")), ("xattr_name", string("user_created"))])) == .success(string("true")))
        #expect(try client.call("bdev_lvol_get_xattr", params: object([("name", string("lvs/r1-snap-a")), ("xattr_name", string("snapshot_timestamp"))])) == .success(string("2026-11-25T00:00:00Z")))
        guard case .success(.array(let snaps)) = try client.call("bdev_get_bdevs", params: object([("name", string(snapshotUUID))])) else { return }
        #expect(snaps.first?["driver_specific"]?["lvol"]?["clones"] == .array([string("r1"), string("c1")]))
        // What go-spdk-helper sends: get_lvols by the lvstore's "uuid", and the snapshot checksum
        // query of every listing (-19 means "none registered").
        guard case .success(.array(let byUUID)) = try client.call("bdev_lvol_get_lvols", params: object([("uuid", string(storeUUID))])) else {
            Issue.record("get_lvols by uuid failed")
            return
        }
        #expect(byUUID.count == 3)
        #expect(try client.call("bdev_lvol_get_lvols", params: object([("uuid", string(storeUUID)), ("lvs_uuid", string(storeUUID))])) == .failure(JSONRPCError(code: -32603, message: "spdk_json_decode_object failed")))
        #expect(try client.call("bdev_lvol_get_snapshot_checksum", params: object([("name", string(snapshotUUID))])) == .failure(JSONRPCError(code: -19, message: "No such device")))
        #expect(try client.call("log_set_flag", params: object([("flag", string("bdev_raid"))])) == .success(.bool(true)))
        #expect(try client.call("log_set_print_level", params: object([("level", string("warn"))])) == .success(.bool(true)))
        #expect(try client.call("log_get_print_level") == .success(string("WARNING")))
        #expect(try client.call("bdev_lvol_rename_lvstore", params: object([("old_name", string("lvs")), ("new_name", string("disk2"))])) == .success(.bool(true)))
        guard case .success(.array(let renamed)) = try client.call("bdev_get_bdevs", params: object([("name", string("disk2/r1"))])) else {
            Issue.record("rename_lvstore did not rename the aliases")
            return
        }
        #expect(renamed.first?["name"] == string(headUUID))
        #expect(try client.call("bdev_lvol_delete_lvstore", params: object([("lvs_name", string("disk2"))])) == .success(.bool(true)))
        #expect(try client.call("bdev_lvol_get_lvstores") == .success(.array([])))
    }
}

@Suite struct TgtFrameworkAndGrowTests {
    @Test func frameworkMethodsAndGrowLvstore() throws {
        let file = try TemporaryFile(size: 64 << 20)
        let daemon = try Daemon()
        let client = try daemon.client()
        #expect(try client.call("framework_start_init") == .success(.bool(true)))
        #expect(try client.call("framework_wait_init") == .success(.bool(true)))
        #expect(try client.call("bdev_wait_for_examine") == .success(.bool(true)))
        if case .failure(let error) = try client.call("framework_start_init", params: object([("x", .integer(1))])) {
            #expect(error.code == -32602)
        } else {
            Issue.record("params accepted")
        }
        guard case .success(.array(let methods)) = try client.call("rpc_get_methods", params: object([("current", .bool(true))])) else {
            Issue.record("rpc_get_methods failed")
            return
        }
        #expect(methods.contains(string("bdev_lvol_grow_lvstore")) && methods.contains(string("log_get_flags")))

        _ = try client.call("bdev_aio_create", params: object([("name", string("aio0")), ("filename", string(file.path)), ("block_size", .integer(4096))]))
        _ = try client.call("bdev_lvol_create_lvstore", params: object([("bdev_name", string("aio0")), ("lvs_name", string("lvs")), ("cluster_sz", .integer(1 << 20))]))
        func totalClusters() throws -> JSONValue? {
            guard case .success(.array(let stores)) = try client.call("bdev_lvol_get_lvstores") else { return nil }
            return stores.first?["total_data_clusters"]
        }
        let before = try totalClusters()
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file.path))
        try handle.truncate(atOffset: 96 << 20)
        try handle.close()
        #expect(try client.call("bdev_lvol_grow_lvstore", params: object([("lvs_name", string("lvs"))])) == .success(.bool(true)))
        let after = try totalClusters()
        if case .number(let old)? = before, case .number(let new)? = after {
            #expect(Int(new)! == Int(old)! + 32)
        } else {
            Issue.record("no cluster counts")
        }
        #expect(try client.call("bdev_lvol_grow_lvstore", params: object([("lvs_name", string("nope"))])) == .failure(JSONRPCError(code: -19, message: "No such device")))
    }
}
