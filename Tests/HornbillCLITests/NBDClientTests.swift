// Real NBD clients nobody on this team wrote — nbdinfo, qemu-img, qemu-io, nbdcopy and fio's nbd
// engine (installed by scripts/test.sh) — against `hornbill tgt` exporting an lvol and a RAID1.

import Foundation
import JSONRPC
import StorageKit
import TestSupport
import Testing


private func call(_ client: JSONRPCClient, _ method: String, _ members: [(String, JSONValue)], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let result = try client.call(method, params: params(members))
    if case .failure(let error) = result { Issue.record("\(method): \(error.code) \(error.message)", sourceLocation: sourceLocation) }
}

/// A daemon with lvstores on files and lvols made ready for export.
private func daemonWithLvols(_ files: [TemporaryFile], sizeMiB: Int) throws -> (Daemon, JSONRPCClient) {
    let daemon = try Daemon()
    let client = try daemon.client()
    for (index, file) in files.enumerated() {
        try call(client, "bdev_aio_create", [("name", text("aio\(index)")), ("filename", text(file.path)), ("block_size", .integer(4096))])
        try call(client, "bdev_lvol_create_lvstore", [("bdev_name", text("aio\(index)")), ("lvs_name", text("lvs\(index)")), ("cluster_sz", .integer(1 << 20))])
        try call(client, "bdev_lvol_create", [("lvs_name", text("lvs\(index)")), ("lvol_name", text("vol")), ("size_in_mib", .integer(sizeMiB)), ("thin_provision", .bool(true))])
    }
    return (daemon, client)
}

private func export(_ client: JSONRPCClient, name: String, bdev: String, port: UInt16) throws {
    try call(client, "nbd_export_create", [
        ("name", text(name)), ("bdev_name", text(bdev)),
        ("listen_address", params([("traddr", text("127.0.0.1")), ("trsvcid", text(String(port)))])),
    ])
}

@Suite(.serialized) struct NBDClientTests {
    @Test func realClientsReadAndWriteAnExportedLvol() throws {
        try #require(try runProgram(["which", "nbdinfo", "qemu-img", "nbdcopy", "fio"]).status == 0, "scripts/test.sh installs libnbd-bin, qemu-utils and fio")
        let (daemon, client) = try daemonWithLvols([try TemporaryFile(size: 128 << 20)], sizeMiB: 64)
        let port = freeTCPPort()
        let uri = "nbd://127.0.0.1:\(port)/vol"
        try export(client, name: "vol", bdev: "lvs0/vol", port: port)
        if case .success(let list) = try client.call("nbd_export_list") {
            #expect(list[0]?["bdev_name"] == text("lvs0/vol") || list[0]?["bdev_name"] != nil)
            #expect(list[0]?["read_only"] == .bool(false))
        }
        #expect(try client.call("nbd_export_create", params: params([
            ("name", text("vol")), ("bdev_name", text("lvs0/vol")), ("listen_address", params([("traddr", text("127.0.0.1")), ("trsvcid", text(String(port)))])),
        ])) == .failure(JSONRPCError(code: -17, message: "File exists: an export named vol already exists")))

        let info = try runProgram(["nbdinfo", "--json", uri])
        #expect(info.status == 0, "\(info.output)")
        #expect(info.output.contains("\"export-size\": 67108864"))
        #expect(info.output.contains("\"can_trim\": true") && info.output.contains("\"can_flush\": true") && info.output.contains("\"can_multi_conn\": true"))
        #expect(info.output.contains("\"block_size_minimum\": 4096"))

        // qemu-img: a random 64 MiB image into the export, compared back.
        let source = try TemporaryFile(size: 64 << 20)
        var random = SeededRandom(seed: 21)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: source.path))
        for _ in 0..<64 {
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            chunk.withUnsafeMutableBytes { random.fill($0) }
            handle.write(Data(chunk))
        }
        try handle.close()
        let convert = try runProgram(["qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", source.path, uri])
        #expect(convert.status == 0, "\(convert.output)")
        let compare = try runProgram(["qemu-img", "compare", "-f", "raw", "-F", "raw", source.path, uri])
        #expect(compare.status == 0, "\(compare.output)")

        // nbdcopy back out to a file.
        let copy = try TemporaryFile(size: 64 << 20)
        let copied = try runProgram(["nbdcopy", uri, copy.path])
        #expect(copied.status == 0, "\(copied.output)")
        #expect(try runProgram(["cmp", source.path, copy.path]).status == 0)

        // Trim and write-zeroes read back as zeros (qemu-io verifies the patterns).
        let zeroes = try runProgram([
            "qemu-io", "-f", "raw", "-c", "discard 0 1M", "-c", "read -P 0 0 1M", "-c", "write -z 1M 1M", "-c", "read -P 0 1M 1M",
            "-c", "write -P 0xab 2M 64k", "-c", "read -P 0xab 2M 64k", uri,
        ])
        #expect(zeroes.status == 0 && !zeroes.output.contains("failed") && !zeroes.output.contains("error"), "\(zeroes.output)")

        // fio's nbd engine: random writes, then crc32c verification.
        let fio = try runProgram([
            "fio", "--name=verify", "--ioengine=nbd", "--uri=\(uri)", "--rw=randwrite", "--bs=4k", "--iodepth=16",
            "--size=32M", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0", "--randrepeat=0",
        ])
        #expect(fio.status == 0 && fio.output.contains("err= 0"), "\(fio.output)")
        #expect(!fio.output.contains("bad magic") && !fio.output.contains("verify: bad"))
        try call(client, "nbd_export_delete", [("name", text("vol"))])
        #expect(try runProgram(["nbdinfo", uri]).status != 0)
        withExtendedLifetime(daemon) {}
    }

    @Test func fioVerifiesThroughARAID1WhileALegIsRemoved() throws {
        try #require(try runProgram(["which", "fio"]).status == 0, "scripts/test.sh installs fio")
        let files = [try TemporaryFile(size: 96 << 20), try TemporaryFile(size: 96 << 20)]
        let (daemon, client) = try daemonWithLvols(files, sizeMiB: 64)
        try call(client, "bdev_raid_create", [("name", text("raid")), ("raid_level", text("raid1")), ("base_bdevs", .array([text("lvs0/vol"), text("lvs1/vol")]))])
        let port = freeTCPPort()
        try export(client, name: "raid", bdev: "raid", port: port)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "fio", "--name=raid", "--ioengine=nbd", "--uri=nbd://127.0.0.1:\(port)/raid", "--rw=randwrite", "--bs=4k",
            "--iodepth=8", "--size=48M", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0", "--randrepeat=0",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        usleep(700_000)
        try call(client, "bdev_raid_remove_base_bdev", [("name", text("lvs1/vol"))])
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(String(decoding: data, as: UTF8.self))")
        if case .success(let raids) = try client.call("bdev_raid_get_bdevs", params: params([("category", text("online"))])) {
            #expect(raids[0]?["num_base_bdevs_operational"] == .integer(1))
        }
        withExtendedLifetime(daemon) {}
    }
}
