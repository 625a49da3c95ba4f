// bdev_get_iostat and bdev_set_qos_limit (spdk.md §2.2). Ticks are nanoseconds (tick_rate 1e9).

import BlockCore
import Foundation
import JSONRPC

extension SPDKTarget {
    static let statMethods: [String: Method] = [
        "bdev_get_iostat": { target, params in try target.getIOStat(params) },
        "bdev_set_qos_limit": { target, params in try target.setQoSLimit(params) },
    ]

    static func nowTicks() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    static func statistics(of device: any BlockDevice, named name: String? = nil) -> [(key: String, value: JSONValue)] {
        let stats = device.ioControl.statistics.snapshot
        var members: [(key: String, value: JSONValue)] = []
        if let name { members.append(("name", .string(name))) }
        members += [
            ("bytes_read", .integer(stats.bytes[0])), ("num_read_ops", .integer(stats.operations[0])),
            ("bytes_written", .integer(stats.bytes[1])), ("num_write_ops", .integer(stats.operations[1])),
            ("bytes_unmapped", .integer(stats.bytes[2])), ("num_unmap_ops", .integer(stats.operations[2])),
            ("bytes_copied", .integer(0)), ("num_copy_ops", .integer(0)),
            ("read_latency_ticks", .integer(stats.latencyNanoseconds[0])),
            ("max_read_latency_ticks", .integer(stats.maxLatencyNanoseconds[0])),
            ("min_read_latency_ticks", .integer(stats.minLatencyNanoseconds[0])),
            ("write_latency_ticks", .integer(stats.latencyNanoseconds[1])),
            ("max_write_latency_ticks", .integer(stats.maxLatencyNanoseconds[1])),
            ("min_write_latency_ticks", .integer(stats.minLatencyNanoseconds[1])),
            ("unmap_latency_ticks", .integer(stats.latencyNanoseconds[2])),
            ("max_unmap_latency_ticks", .integer(stats.maxLatencyNanoseconds[2])),
            ("min_unmap_latency_ticks", .integer(stats.minLatencyNanoseconds[2])),
            ("copy_latency_ticks", .integer(0)), ("max_copy_latency_ticks", .integer(0)),
            ("min_copy_latency_ticks", .integer(0)),
            ("io_error", .object([("errors", .integer(stats.errors))])),
            ("queue_depth_polling_period", .integer(0)), ("queue_depth", .integer(0)), ("io_time", .integer(0)),
            ("weighted_io_time", .integer(0)),
        ]
        return members
    }

    func getIOStat(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        // The fork sends `name`; upstream rpc.py sends `names`.
        let name = try decoder.string("name")
        let names = try decoder.stringArray("names")
        let perChannel = try decoder.bool("per_channel") ?? false
        let resetMode = try decoder.string("reset_mode") ?? "none"
        try decoder.finish()
        let wanted = name.map { [$0] } ?? names
        guard !perChannel || wanted?.count == 1 else { throw JSONRPCError(code: -22, message: "Invalid argument") }
        guard let reset = IOStatistics.Reset(rawValue: resetMode) else {
            throw JSONRPCError(code: -22, message: "Invalid argument")
        }
        var devices: [any BlockDevice] = []
        if let wanted {
            for name in wanted {
                guard let device = registry.lookup(name) else { throw Self.noSuchDevice }
                devices.append(device)
            }
        } else {
            devices = registry.all
        }
        defer { for device in devices { device.ioControl.statistics.reset(reset) } }
        var result: [(key: String, value: JSONValue)] = [("tick_rate", .integer(1_000_000_000)), ("ticks", .integer(Self.nowTicks()))]
        if perChannel, let device = devices.first {
            // One reactor: its channels' totals are the device's.
            result.append(("name", .string(device.name)))
            result.append(("channels", .array([.object([("thread_id", .integer(1))] + Self.statistics(of: device))])))
        } else {
            result.append((
                "bdevs",
                .array(devices.map { device in
                    .object(Self.statistics(of: device, named: device.name) + [("driver_specific", .object([]))])
                })
            ))
        }
        return .object(result)
    }

    func setQoSLimit(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.requiredString("name")
        let ios = try decoder.uint64("rw_ios_per_sec")
        let rw = try decoder.uint64("rw_mbytes_per_sec")
        let read = try decoder.uint64("r_mbytes_per_sec")
        let write = try decoder.uint64("w_mbytes_per_sec")
        try decoder.finish()
        guard let device = registry.lookup(name) else { throw Self.noSuchDevice }
        guard ios != nil || rw != nil || read != nil || write != nil else {
            throw JSONRPCError(code: -22, message: "No rate limits specified")
        }
        var limits = device.ioControl.limits
        // SPDK enforces IOPS limits in steps of 1000 and rounds a limit in between up.
        if let ios { limits.readWriteIOsPerSecond = ios.roundedUp(toMultipleOf: 1000) }
        if let rw { limits.readWriteMegabytesPerSecond = rw }
        if let read { limits.readMegabytesPerSecond = read }
        if let write { limits.writeMegabytesPerSecond = write }
        device.ioControl.setLimits(limits)
        return .bool(true)
    }
}

extension UInt64 {
    /// The smallest multiple of `step` not below self (saturating at the largest multiple).
    func roundedUp(toMultipleOf step: UInt64) -> UInt64 {
        let remainder = self % step
        guard remainder != 0 else { return self }
        let (sum, overflow) = addingReportingOverflow(step - remainder)
        return overflow ? self - remainder : sum
    }
}
