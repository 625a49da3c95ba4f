import Synchronization

/// The set of registered devices, found by name or alias (spdk.md §2.0).
public final class BlockDeviceRegistry: Sendable {
    private let devices = Mutex<[String: any BlockDevice]>([:])
    /// Callers waiting for a name to appear (see BlockDeviceRegistry+Waiting.swift).
    let waiters = DeviceWaiters()

    public init() {}

    /// Adds a device; its name and aliases must not name a registered device.
    public func register(_ device: any BlockDevice) throws {
        try devices.withLock { devices in
            for key in [device.name] + device.aliases {
                if Self.find(key, in: devices) != nil {
                    throw BlockError(.alreadyExists, "a block device named \(key) already exists")
                }
            }
            devices[device.name] = device
        }
        waiters.deviceArrived(device)
    }

    /// Removes a device by its name; returns it.
    @discardableResult
    public func unregister(name: String) throws -> any BlockDevice {
        try devices.withLock { devices in
            guard let device = devices.removeValue(forKey: name) else {
                throw BlockError(.notFound, "no block device named \(name)")
            }
            return device
        }
    }

    /// The device with this name or alias.
    public func lookup(_ nameOrAlias: String) -> (any BlockDevice)? {
        devices.withLock { Self.find(nameOrAlias, in: $0) }
    }

    /// Every registered device, sorted by name (the keys are the names).
    public var all: [any BlockDevice] {
        devices.withLock { $0.sorted { $0.key < $1.key }.map(\.value) }
    }

    private static func find(_ key: String, in devices: [String: any BlockDevice]) -> (any BlockDevice)? {
        if let device = devices[key] { return device }
        return devices.values.first { $0.hasAlias(key) }
    }
}
