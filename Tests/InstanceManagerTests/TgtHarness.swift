// What the V2 instance-manager tests share beyond TestSupport's TgtDaemon: a ready disk, tools run
// as processes (fio, `hornbill nvme`).

import Foundation
import InstanceManager
import TestSupport
import Testing

/// A disk on a sparse file, created and waited for until ready.
func readyDisk(_ instances: V2Instances, name: String, file: TemporaryFile, uuid: String = "") async throws -> DiskInfo
{
    let created = try await instances.diskCreate(name: name, uuid: uuid, path: file.path, blockSize: 512)
    #expect(created.state == .creating || created.state == .ready)
    // Creating is quick alone; a machine running every suite at once may take far longer.
    return try await eventually(60) {
        let disk = try await instances.diskGet(name: name)
        return disk.state == .creating ? nil : disk
    }
}

/// fio over NBD writing 2 MiB with crc32c verify headers, or (verifyOnly) checking them.
func fio(_ endpoint: String, verifyOnly: Bool = false) throws -> (status: Int32, output: String) {
    try runCommand(
        [
            "fio", "--name=im", "--ioengine=nbd", "--uri=\(endpoint)", "--rw=write", "--bs=4k", "--iodepth=8",
            "--size=2M",
            "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0",
        ] + (verifyOnly ? ["--verify_only=1"] : []))
}
