// The NVMe bdev methods (spdk.md §2.6): this daemon as an NVMe/TCP host. Each attached controller
// registers its namespaces as bdevs `<name>n<nsid>`; a controller given up after a loss takes them
// away again.

import BlockCore
import Foundation
import JSONRPC
import NVMeTCP
import NVMeWire
import Synchronization

/// Defaults set by bdev_nvme_set_options, applied to later attaches.
struct NVMeDefaults: Sendable {
    var keepAliveMilliseconds: UInt32 = 10_000
    var controllerLossSeconds: Int64 = 0
    var reconnectDelaySeconds: Int64 = 0
    var fastIOFailSeconds: Int64 = 0
    var transportAckTimeout: UInt64 = 0
}

extension SPDKTarget {
    static let nvmeMethods: [String: Method] = [
        "bdev_nvme_set_options": { target, params in try target.setNVMeOptions(params) },
        "bdev_nvme_attach_controller": { target, params in try await target.attachController(params) },
        "bdev_nvme_detach_controller": { target, params in try await target.detachController(params) },
        "bdev_nvme_get_controllers": { target, params in try target.getControllers(params) },
        "bdev_nvme_reset_controller": { target, params in try await target.resetController(params) },
    ]

    func setNVMeOptions(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        var defaults = nvmeDefaults.withLock { $0 }
        if let value = try decoder.uint64("keep_alive_timeout_ms") {
            // A uint32 in SPDK's decoder: larger fails the decode.
            guard value <= UInt64(UInt32.max) else { throw Params.decodeFailed }
            defaults.keepAliveMilliseconds = UInt32(value)
        }
        if let value = try decoder.int64("ctrlr_loss_timeout_sec") { defaults.controllerLossSeconds = value }
        if let value = try decoder.uint64("reconnect_delay_sec") { defaults.reconnectDelaySeconds = Int64(clamping: value) }
        if let value = try decoder.uint64("fast_io_fail_timeout_sec") { defaults.fastIOFailSeconds = Int64(clamping: value) }
        if let value = try decoder.uint64("transport_ack_timeout") {
            // A uint8 in SPDK's decoder; bdev_nvme_set_opts refuses 32 and above with -EINVAL.
            guard value <= UInt64(UInt8.max) else { throw Params.decodeFailed }
            guard value <= 31 else { throw Self.invalidArgument("transport_ack_timeout \(value) above 31") }
            defaults.transportAckTimeout = value
        }
        // Options of SPDK's poller and PCIe paths: accepted, nothing here depends on them.
        for key in [
            "timeout_us", "timeout_admin_us", "arbitration_burst", "low_priority_weight", "medium_priority_weight",
            "high_priority_weight", "nvme_adminq_poll_period_us", "nvme_ioq_poll_period_us", "io_queue_requests",
            "transport_retry_count", "bdev_retry_count", "transport_tos", "rdma_srq_size", "rdma_max_cq_size",
            "rdma_cm_event_timeout_ms",
        ] { _ = try decoder.int64(key) }
        for key in ["delay_cmd_submit", "disable_auto_failback", "generate_uuids", "nvme_error_stat", "io_path_stat", "allow_accel_sequence"] {
            _ = try decoder.bool(key)
        }
        _ = try decoder.string("action_on_timeout")
        _ = try decoder.stringArray("dhchap_digests")
        _ = try decoder.stringArray("dhchap_dhgroups")
        try decoder.finish()
        try Self.checkReconnectOptions(
            loss: defaults.controllerLossSeconds, delay: defaults.reconnectDelaySeconds, fastFail: defaults.fastIOFailSeconds)
        guard nvmeControllers.withLock({ $0.isEmpty }) else {
            throw JSONRPCError(code: -1, message: "RPC not permitted with nvme controllers already attached")
        }
        nvmeDefaults.withLock { $0 = defaults }
        return .bool(true)
    }

    static func invalidArgument(_ detail: String) -> JSONRPCError {
        JSONRPCError(code: -22, message: "Invalid argument: \(detail)")
    }

    /// SPDK's rules for the three reconnect timeouts.
    static func checkReconnectOptions(loss: Int64, delay: Int64, fastFail: Int64) throws(JSONRPCError) {
        guard loss >= -1 else { throw invalidArgument("ctrlr_loss_timeout_sec \(loss) below -1") }
        if delay == 0 {
            guard loss == 0 else { throw invalidArgument("reconnect_delay_sec 0 needs ctrlr_loss_timeout_sec 0") }
            guard fastFail == 0 else { throw invalidArgument("fast_io_fail_timeout_sec needs a reconnect_delay_sec") }
        } else {
            guard loss == -1 || loss >= delay else {
                throw invalidArgument("ctrlr_loss_timeout_sec \(loss) below reconnect_delay_sec \(delay)")
            }
            if fastFail != 0 {
                guard fastFail >= delay, loss == -1 || fastFail < loss else {
                    throw invalidArgument("fast_io_fail_timeout_sec \(fastFail) must be at least reconnect_delay_sec and below ctrlr_loss_timeout_sec")
                }
            }
        }
    }

    func attachController(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.requiredString("name")
        let type = try decoder.requiredString("trtype")
        let address = try decoder.requiredString("traddr")
        let family = try decoder.string("adrfam")
        let service = try decoder.string("trsvcid") ?? "4420"
        let subsystemNQN = try decoder.string("subnqn") ?? NVMfSubsystem.discoveryNQN
        let hostNQN = try decoder.string("hostnqn")
        _ = try decoder.string("hostaddr")
        _ = try decoder.string("hostsvcid")
        _ = try decoder.int64("priority")
        _ = try decoder.bool("prchk_reftag")
        _ = try decoder.bool("prchk_guard")
        let headerDigest = try decoder.bool("hdgst") ?? false
        let dataDigest = try decoder.bool("ddgst") ?? false
        let connectTimeout = try decoder.uint64("fabrics_connect_timeout_us")
        let multipath = try decoder.string("multipath") ?? "failover"
        let queues = try decoder.uint64("num_io_queues")
        var defaults = nvmeDefaults.withLock { $0 }
        if let value = try decoder.int64("ctrlr_loss_timeout_sec") { defaults.controllerLossSeconds = value }
        if let value = try decoder.uint64("reconnect_delay_sec") { defaults.reconnectDelaySeconds = Int64(clamping: value) }
        if let value = try decoder.uint64("fast_io_fail_timeout_sec") { defaults.fastIOFailSeconds = Int64(clamping: value) }
        for key in ["psk", "dhchap_key", "dhchap_ctrlr_key"] {
            if try decoder.string(key) != nil { throw Self.invalidArgument("\(key): authentication is not supported") }
        }
        _ = try decoder.uint64("max_bdevs")
        _ = try decoder.bool("allow_unrecognized_csi")
        // Flow control on the submission queue is what the queue slots give already.
        _ = try decoder.bool("disable_sq_flow_control")
        try decoder.finish()
        guard type.uppercased() == "TCP" else { throw Self.invalidArgument("trtype \(type): only TCP is supported") }
        if let family, !["ipv4", "ipv6"].contains(family.lowercased()) {
            throw JSONRPCError(code: -22, message: "Failed to parse adrfam: \(family)")
        }
        // SPDK's decoder of `multipath` fails the whole decode on an unknown mode.
        guard ["disable", "failover", "multipath"].contains(multipath) else { throw Params.decodeFailed }
        if let existing = nvmeControllers.withLock({ $0[name] }) {
            // SPDK's answers for a name in use: with multipath disabled, or for the same network
            // path, -EALREADY; another path of the same subsystem would be added as a failover
            // path there, which this daemon does not do (-17 below).
            if multipath == "disable" {
                throw JSONRPCError(code: -114, message: "A controller named \(name) already exists and multipath is disabled")
            }
            if existing.options.address == address, existing.options.serviceID == service {
                throw JSONRPCError(code: -114, message: "A controller named \(name) already exists with the specified network path")
            }
        }
        try Self.checkReconnectOptions(
            loss: defaults.controllerLossSeconds, delay: defaults.reconnectDelaySeconds, fastFail: defaults.fastIOFailSeconds)
        guard nvmeControllers.withLock({ $0[name] == nil }), registry.lookup("\(name)n1") == nil else {
            throw JSONRPCError(code: -17, message: "File exists: a controller named \(name) already exists")
        }
        var options = NVMeHostController.Options(address: address, serviceID: service, subsystemNQN: subsystemNQN, hostNQN: hostNQN)
        options.headerDigest = headerDigest
        options.dataDigest = dataDigest
        options.keepAliveMilliseconds = defaults.keepAliveMilliseconds
        options.ioQueues = Int(min(max(queues ?? 1, 1), 64))
        if let connectTimeout, connectTimeout > 0 { options.connectTimeout = .microseconds(Int64(clamping: connectTimeout)) }
        options.reconnectDelay = .seconds(defaults.reconnectDelaySeconds)
        options.fastIOFailTimeout = defaults.fastIOFailSeconds == 0 ? nil : .seconds(defaults.fastIOFailSeconds)
        options.controllerLossTimeout = defaults.controllerLossSeconds < 0 ? nil : .seconds(defaults.controllerLossSeconds)
        let controller: NVMeHostController
        do {
            controller = try await NVMeHostController.attach(name: name, options: options, reactor: reactor)
        } catch {
            logSettings.log(.error, "bdev_nvme_attach_controller \(name): \(error)")
            throw JSONRPCError(code: -5, message: "Input/output error: \(error)")
        }
        controller.onLoss = { [weak self] lost in self?.forgetController(lost) }
        let accepted = nvmeControllers.withLock { controllers in
            guard controllers[name] == nil else { return false }
            controllers[name] = controller
            return true
        }
        guard accepted else {
            await controller.detach()
            throw JSONRPCError(code: -17, message: "File exists: a controller named \(name) already exists")
        }
        var names: [JSONValue] = []
        for namespace in controller.namespaces {
            do {
                try registry.register(namespace)
                names.append(.string(namespace.name))
            } catch {
                logSettings.log(.error, "bdev_nvme_attach_controller \(name): \(error)")
                continue
            }
            // Examine, as for every new bdev: an lvstore on the namespace comes back.
            do {
                try await examine(namespace)
            } catch {
                logSettings.log(.error, "examine of \(namespace.name): \(error)")
            }
        }
        return .array(names)
    }

    /// A controller given up after a loss: its bdevs go away.
    func forgetController(_ controller: NVMeHostController) {
        let removed = nvmeControllers.withLock { controllers in
            guard controllers[controller.name] === controller else { return false }
            controllers[controller.name] = nil
            return true
        }
        guard removed else { return }
        logSettings.log(.warning, "NVMe controller \(controller.name) lost; its bdevs are removed")
        // Hot remove: what sits on the namespaces lets go; their I/O fails, the controller is gone.
        Task { for namespace in controller.namespaces { await hotRemove(namespace) } }
    }

    func detachController(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.requiredString("name")
        for key in ["trtype", "traddr", "adrfam", "trsvcid", "subnqn", "hostaddr", "hostsvcid"] { _ = try decoder.string(key) }
        try decoder.finish()
        guard let controller = nvmeControllers.withLock({ $0.removeValue(forKey: name) }) else { throw Self.noSuchDevice }
        // As SPDK: the namespaces' bdevs are removed first (an lvstore on one unloads while the
        // controller still serves its writes), then the controller goes.
        for namespace in controller.namespaces { await hotRemove(namespace) }
        await controller.detach()
        return .bool(true)
    }

    func resetController(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        // SPDK's controller operations answer a decode failure with -32602 "Invalid argument".
        let name: String
        do {
            var decoder = try Params(params)
            name = try decoder.requiredString("name")
            _ = try decoder.uint64("cntlid")
            try decoder.finish()
        } catch {
            throw JSONRPCError(code: -32602, message: "Invalid argument")
        }
        guard let controller = nvmeControllers.withLock({ $0[name] }) else { throw Self.noSuchDevice }
        do {
            try await controller.reset()
        } catch {
            logSettings.log(.error, "bdev_nvme_reset_controller \(name): \(error)")
            throw JSONRPCError(code: -5, message: "Input/output error")
        }
        return .bool(true)
    }

    func getControllers(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.string("name")
        try decoder.finish()
        var controllers = nvmeControllers.withLock { $0.values.sorted { $0.name < $1.name } }
        if let name {
            controllers = controllers.filter { $0.name == name }
            guard !controllers.isEmpty else { throw JSONRPCError(code: 22, message: "Controller \(name) does not exist") }
        }
        return .array(controllers.map { controller in
            .object([
                ("name", .string(controller.name)),
                ("ctrlrs", .array([.object([
                    ("state", .string(controller.state.rawValue)),
                    ("trid", Self.transportID(controller)),
                    ("cntlid", .integer(controller.controllerID)),
                    ("host", .object([("nqn", .string(controller.options.hostNQN)), ("addr", .string("")), ("svcid", .string(""))])),
                ])])),
            ])
        })
    }

    static func transportID(_ controller: NVMeHostController) -> JSONValue {
        .object([
            ("trtype", .string("TCP")), ("adrfam", .string(controller.options.address.contains(":") ? "IPv6" : "IPv4")),
            ("traddr", .string(controller.options.address)), ("trsvcid", .string(controller.options.serviceID)),
            ("subnqn", .string(controller.options.subsystemNQN)),
        ])
    }

    /// The `nvme` entry of bdev_get_bdevs' driver_specific.
    static func nvmeDriverSpecific(_ namespace: NVMeNamespaceDevice) -> JSONValue {
        let controller = namespace.controller
        let identity = controller.identity
        return .array([.object([
            ("trid", transportID(controller)),
            ("ctrlr_data", .object([
                ("cntlid", .integer(controller.controllerID)), ("vendor_id", .string("0x8086")),
                ("model_number", .string(identity?.modelNumber ?? "")), ("serial_number", .string(identity?.serialNumber ?? "")),
                ("firmware_revision", .string(identity?.firmwareRevision ?? "")),
                ("subnqn", .string(identity?.subsystemNQN ?? controller.options.subsystemNQN)),
                ("oacs", .object([("security", .integer(0)), ("format", .integer(0)), ("firmware", .integer(0)), ("ns_manage", .integer(0))])),
                ("multi_ctrlr", .bool(true)), ("ana_reporting", .bool(identity?.anaReporting ?? false)),
            ])),
            ("vs", .object([("nvme_version", .string("1.3"))])),
            ("ns_data", .object([("id", .integer(namespace.namespaceID)), ("can_share", .bool(true))])),
        ])])
    }
}
