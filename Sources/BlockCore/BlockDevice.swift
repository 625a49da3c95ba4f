public import Foundation

/// A block device (SPDK's bdev): identity and geometry, claims, and a factory for per-reactor
/// I/O channels. Modules (malloc, aio, lvol, …) implement it; `BlockDeviceRegistry` names them.
///
/// Identity and geometry may change at run time (an lvol is renamed or resized), so they are
/// read through properties that implementations keep thread-safe.
public protocol BlockDevice: AnyObject, Sendable {
    /// The unique name (for an lvol, its UUID string).
    var name: String { get }
    /// Other names it can be found by (for an lvol, `lvstore/lvol`).
    var aliases: [String] { get }
    /// Whether `key` is one of `aliases` (a device that keeps its aliases can answer without
    /// making the list: the registry asks every device when a name is not found).
    func hasAlias(_ key: String) -> Bool
    var uuid: UUID { get }
    /// SPDK's product name, e.g. "Malloc disk", "AIO disk", "Logical Volume".
    var productName: String { get }
    var blockSize: Int { get }
    var blockCount: UInt64 { get }
    var supportedIOTypes: IOTypes { get }
    /// Who holds this device (design/STYLE.md #5: the descriptor holds claims).
    var claims: DeviceClaims { get }
    /// Statistics and QoS limits of I/O opened through descriptors.
    var ioControl: DeviceIOControl { get }
    /// Opens an I/O channel for the calling reactor.
    func makeChannel() throws -> any IOChannel
}

extension BlockDevice {
    public func hasAlias(_ key: String) -> Bool { aliases.contains(key) }
    public var geometry: BlockGeometry { BlockGeometry(blockSize: blockSize, blockCount: blockCount) }
    public var byteCount: UInt64 { blockCount * UInt64(blockSize) }
}
