// A `hornbill tgt` serving one malloc bdev `m0` over NBD or NVMe/TCP on a free loopback port, the
// setup of the data-plane connection tests.

import JSONRPC
import TestSupport
import Testing

/// A daemon with a 64 MiB malloc bdev `m0` exported over NBD as `vol`.
func tgtWithNBDExport() throws -> (Daemon, port: UInt16, uri: String) {
    let daemon = try Daemon()
    let client = try daemon.client()
    try rpc(
        client, "bdev_malloc_create",
        [("name", text("m0")), ("num_blocks", .integer(16384)), ("block_size", .integer(4096))])
    let port = freeTCPPort()
    try rpc(
        client, "nbd_export_create",
        [
            ("name", text("vol")), ("bdev_name", text("m0")),
            ("listen_address", params([("traddr", text("127.0.0.1")), ("trsvcid", text(String(port)))])),
        ])
    return (daemon, port, "nbd://127.0.0.1:\(port)/vol")
}

/// A daemon with a malloc bdev `m0` of `blocks` 4 KiB blocks, the namespace of subsystem `nqn`
/// (any host allowed) on an NVMe/TCP listener.
func tgtWithNVMeNamespace(nqn: String, blocks: Int) throws -> (Daemon, port: UInt16) {
    let daemon = try Daemon()
    let client = try daemon.client()
    let port = freeTCPPort()
    try rpc(
        client, "bdev_malloc_create",
        [("name", text("m0")), ("num_blocks", .integer(blocks)), ("block_size", .integer(4096))])
    try rpc(client, "nvmf_create_transport", [("trtype", text("TCP"))])
    try rpc(client, "nvmf_create_subsystem", [("nqn", text(nqn)), ("allow_any_host", .bool(true))])
    try rpc(client, "nvmf_subsystem_add_ns", [("nqn", text(nqn)), ("namespace", params([("bdev_name", text("m0"))]))])
    try rpc(
        client, "nvmf_subsystem_add_listener",
        [
            ("nqn", text(nqn)),
            (
                "listen_address",
                params([
                    ("trtype", text("tcp")), ("adrfam", text("ipv4")), ("traddr", text("127.0.0.1")),
                    ("trsvcid", text(String(port))),
                ])
            ),
        ])
    return (daemon, port)
}
