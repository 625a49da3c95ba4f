// The NVMe-oF target methods (spdk.md §2.7): transport, subsystems, namespaces, listeners, hosts,
// and the reports of controllers, queue pairs and statistics.
//
// Errors as SPDK's lib/nvmf/nvmf_rpc.c gives them: params that do not decode -32602 "Invalid
// parameters" (add_listener, add_ns, add_host and create_transport ignore keys they do not know);
// a `tgt_name` other than the one target's, "nvmf_tgt", -32603 "Unable to find a target." (the
// per-method spellings are in `checkTarget`); an unknown subsystem -32602 "Invalid parameters";
// a refused host change -32603 "Internal error". The details SPDK only logs are logged here too.

import BlockCore
import BlockDevices
import Foundation
import JSONRPC
import NVMeTCP
import NVMeWire
import Synchronization

extension SPDKTarget {
    static let nvmfMethods: [String: Method] = [
        "nvmf_create_transport": nvmfMethod { target, params in try target.createTransport(params) },
        "nvmf_get_transports": nvmfMethod { target, params in try target.getTransports(params) },
        "nvmf_create_subsystem": nvmfMethod { target, params in try target.createSubsystem(params) },
        "nvmf_delete_subsystem": nvmfMethod { target, params in try await target.deleteSubsystem(params) },
        "nvmf_get_subsystems": nvmfMethod { target, params in try target.getSubsystems(params) },
        "nvmf_subsystem_add_ns": nvmfMethod { target, params in try target.addNamespace(params) },
        "nvmf_subsystem_remove_ns": nvmfMethod { target, params in try await target.removeNamespace(params) },
        "nvmf_subsystem_add_listener": nvmfMethod { target, params in try target.changeListener(params, add: true) },
        "nvmf_subsystem_remove_listener": nvmfMethod { target, params in try target.changeListener(params, add: false) },
        "nvmf_subsystem_get_listeners": nvmfMethod { target, params in try target.getListeners(params) },
        "nvmf_subsystem_listener_set_ana_state": nvmfMethod { target, params in try target.setANAState(params) },
        "nvmf_subsystem_add_host": nvmfMethod { target, params in try target.changeHost(params, add: true) },
        "nvmf_subsystem_remove_host": nvmfMethod { target, params in try target.changeHost(params, add: false) },
        "nvmf_subsystem_allow_any_host": nvmfMethod { target, params in try target.allowAnyHost(params) },
        "nvmf_subsystem_get_controllers": nvmfMethod { target, params in try await target.getControllers(params) },
        "nvmf_subsystem_get_qpairs": nvmfMethod { target, params in try await target.getQueuePairs(params) },
        "nvmf_get_stats": nvmfMethod { target, params in try target.getStats(params) },
    ]

    static let invalidParameters = JSONRPCError(code: -32602, message: "Invalid parameters")

    /// SPDK's nvmf handlers answer params that do not decode with -32602 "Invalid parameters"
    /// (the bdev and lvol handlers' -32603 "spdk_json_decode_object failed" is `Params`' default).
    static func nvmfMethod(_ body: @escaping Method) -> Method {
        { target, params in
            do {
                return try await body(target, params)
            } catch let error as JSONRPCError where error == Params.decodeFailed {
                throw invalidParameters
            }
        }
    }

    /// The name of this daemon's one NVMe-oF target, SPDK's default target name.
    static let nvmfTargetName = "nvmf_tgt"

    /// SPDK's spdk_nvmf_get_tgt: no `tgt_name` means the only target; a name must be its name.
    /// `message` is the method's own spelling: "Unable to find a target." for most,
    /// "Unable to find a target" (no period) for the subsystem queries, "Unable to find target
    /// <name>" for nvmf_create_subsystem.
    static func checkTarget(_ name: String?, message: String = "Unable to find a target.") throws(JSONRPCError) {
        guard name == nil || name == nvmfTargetName else {
            throw JSONRPCError(code: -32603, message: message)
        }
    }

    /// A subsystem named in params (`nqn`, optional `tgt_name`), looked up after the whole of
    /// params has decoded, as SPDK does.
    struct SubsystemReference {
        var nqn: String
        var targetName: String?
    }

    static func subsystemReference(_ decoder: inout Params) throws(JSONRPCError) -> SubsystemReference {
        SubsystemReference(nqn: try decoder.requiredString("nqn"), targetName: try decoder.string("tgt_name"))
    }

    func subsystem(
        _ reference: SubsystemReference, targetMessage: String = "Unable to find a target.",
        missing: JSONRPCError = invalidParameters
    ) throws(JSONRPCError) -> NVMfSubsystem {
        try Self.checkTarget(reference.targetName, message: targetMessage)
        guard let subsystem = nvmf.subsystem(reference.nqn), !subsystem.isDiscovery else { throw missing }
        return subsystem
    }

    static func checkTransportType(_ type: String) throws(JSONRPCError) {
        guard type.uppercased() == "TCP" else { throw JSONRPCError(code: -32602, message: "Invalid transport type '\(type)'") }
    }

    // MARK: - Transport

    func createTransport(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        // SPDK decodes these leniently (keys of other transports, RDMA or vfio-user, are ignored),
        // then checks the target, the transport type, whether it exists, and last the values.
        var decoder = try Params(params)
        let type = try decoder.requiredString("trtype")
        let targetName = try decoder.string("tgt_name")
        let integerKeys = [
            "max_queue_depth", "max_io_qpairs_per_ctrlr", "in_capsule_data_size", "max_io_size", "io_unit_size",
            "max_aq_depth", "num_shared_buffers", "buf_cache_size", "sock_priority", "abort_timeout_sec", "ack_timeout",
            "data_wr_pool_size",
        ]
        var integers: [String: UInt64] = [:]
        for key in integerKeys { integers[key] = try decoder.uint64(key) }
        let c2hSuccess = try decoder.bool("c2h_success")
        let difInsertOrStrip = try decoder.bool("dif_insert_or_strip")
        let zeroCopy = try decoder.bool("zcopy")
        try Self.checkTarget(targetName)
        try Self.checkTransportType(type)
        guard nvmf.transport == nil else { throw JSONRPCError(code: -32603, message: "Transport type 'TCP' already exists") }

        var options = TransportOptions()
        func integer(_ key: String, _ range: ClosedRange<UInt64>) throws(JSONRPCError) -> Int? {
            guard let value = integers[key] else { return nil }
            guard range.contains(value) else { throw JSONRPCError(code: -32602, message: "\(key) \(value) outside \(range.lowerBound)...\(range.upperBound)") }
            return Int(value)
        }
        if let value = try integer("max_queue_depth", 2...UInt64(NVMeWireLimits.maxQueueDepth)) { options.maxQueueDepth = value }
        if let value = try integer("max_io_qpairs_per_ctrlr", 2...UInt64(NVMeWireLimits.maxIOQueues + 1)) { options.maxIOQueuePairsPerController = value - 1 }
        if let value = try integer("in_capsule_data_size", 0...UInt64(NVMeWireLimits.adminInCapsuleDataBytes)) { options.inCapsuleDataSize = value / 16 * 16 }
        if let value = try integer("max_io_size", 4096...UInt64(NVMeWireLimits.maxIOBytes)) {
            guard value & (value - 1) == 0 else { throw JSONRPCError(code: -32602, message: "max_io_size \(value) is not a power of two") }
            options.maxIOSize = value
        }
        if let value = try integer("io_unit_size", 512...UInt64(NVMeWireLimits.maxIOBytes)) { options.ioUnitSize = value }
        if let value = try integer("max_aq_depth", 2...UInt64(NVMeWireLimits.maxQueueDepth)) { options.maxAdminQueueDepth = value }
        if let value = try integer("num_shared_buffers", 0...UInt64(UInt32.max)) { options.numSharedBuffers = value }
        if let value = integers["buf_cache_size"] { options.bufferCacheSize = value }
        if let value = c2hSuccess { options.c2hSuccess = value }
        if let value = difInsertOrStrip { options.difInsertOrStrip = value }
        if let value = try integer("sock_priority", 0...6) { options.socketPriority = value }
        if let value = try integer("abort_timeout_sec", 0...UInt64(UInt32.max)) { options.abortTimeoutSeconds = value }
        if let value = try integer("ack_timeout", 0...UInt64(UInt32.max)) { options.acknowledgementTimeout = value }
        if let value = try integer("data_wr_pool_size", 0...UInt64(UInt32.max)) { options.dataWorkRequestPoolSize = value }
        if let value = zeroCopy { options.zeroCopy = value }
        do {
            try nvmf.createTransport(options)
        } catch {
            throw JSONRPCError(code: -32603, message: "Transport type 'TCP' already exists")
        }
        return .bool(true)
    }

    func getTransports(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let type = try decoder.string("trtype")
        let targetName = try decoder.string("tgt_name")
        try decoder.finish()
        try Self.checkTarget(targetName)
        if let type, type.uppercased() != "TCP" { throw Self.noSuchDevice }
        guard let options = nvmf.transport else {
            if type != nil { throw Self.noSuchDevice }
            return .array([])
        }
        return .array([.object([
            ("trtype", .string("TCP")), ("max_queue_depth", .integer(options.maxQueueDepth)),
            ("max_io_qpairs_per_ctrlr", .integer(options.maxIOQueuePairsPerController + 1)),
            ("in_capsule_data_size", .integer(options.inCapsuleDataSize)), ("max_io_size", .integer(options.maxIOSize)),
            ("io_unit_size", .integer(options.ioUnitSize)), ("max_aq_depth", .integer(options.maxAdminQueueDepth)),
            ("num_shared_buffers", .integer(options.numSharedBuffers)), ("buf_cache_size", .integer(options.bufferCacheSize)),
            ("dif_insert_or_strip", .bool(options.difInsertOrStrip)), ("zcopy", .bool(options.zeroCopy)),
            ("c2h_success", .bool(options.c2hSuccess)), ("sock_priority", .integer(options.socketPriority)),
            ("abort_timeout_sec", .integer(options.abortTimeoutSeconds)), ("ack_timeout", .integer(options.acknowledgementTimeout)),
            ("data_wr_pool_size", .integer(options.dataWorkRequestPoolSize)),
        ])])
    }

    // MARK: - Subsystems

    func createSubsystem(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        // SPDK's order: decode, find the target, create (a taken or malformed NQN fails here),
        // then check the serial and model numbers and the controller id range.
        let nqn = try decoder.requiredString("nqn")
        let targetName = try decoder.string("tgt_name")
        let serial = try decoder.string("serial_number")
        let model = try decoder.string("model_number")
        let namespaces = try decoder.uint64("max_namespaces")
        let allowAnyHost = try decoder.bool("allow_any_host") ?? false
        let anaReporting = try decoder.bool("ana_reporting") ?? false
        let minimum = try decoder.uint64("min_cntlid") ?? 1
        let maximum = try decoder.uint64("max_cntlid") ?? 0xFFEF
        _ = try decoder.uint64("max_discard_size_kib")
        _ = try decoder.uint64("max_write_zeroes_size_kib")
        _ = try decoder.bool("passthrough")
        // Upstream's names for the same limits, and options that change nothing here.
        _ = try decoder.string("admin_label")
        _ = try decoder.uint64("dmrsl")
        _ = try decoder.uint64("wzsl")
        _ = try decoder.bool("enable_nssr")
        try decoder.finish()
        try Self.checkTarget(targetName, message: "Unable to find target \(targetName ?? "")")
        let unableToCreate = JSONRPCError(code: -32603, message: "Unable to create subsystem \(nqn)")
        guard nvmf.subsystem(nqn) == nil else { throw unableToCreate }
        var options = NVMfSubsystem.Options()
        if let serial {
            guard serial.utf8.count <= 20, serial.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else {
                throw JSONRPCError(code: -32602, message: "Invalid SN \(serial)")
            }
            options.serialNumber = serial
        }
        if let model {
            guard model.utf8.count <= 40, model.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else {
                throw JSONRPCError(code: -32602, message: "Invalid MN \(model)")
            }
            options.modelNumber = model
        }
        if let namespaces {
            guard namespaces <= 1024 else { throw JSONRPCError(code: -32602, message: "max_namespaces \(namespaces) above 1024") }
            options.maxNamespaces = namespaces == 0 ? 32 : UInt32(namespaces)
        }
        options.allowAnyHost = allowAnyHost
        options.anaReporting = anaReporting
        guard minimum >= 1, maximum <= 0xFFEF, minimum <= maximum else {
            throw JSONRPCError(code: -32602, message: "Invalid cntlid range [\(minimum)-\(maximum)]")
        }
        options.minControllerID = UInt16(minimum)
        options.maxControllerID = UInt16(maximum)
        do {
            _ = try nvmf.createSubsystem(nqn: nqn, options: options)
        } catch {
            // SPDK only logs why spdk_nvmf_subsystem_create failed (a malformed NQN, a full target).
            logSettings.log(.error, "nvmf_create_subsystem \(nqn): \(error)")
            throw unableToCreate
        }
        return .bool(true)
    }

    func deleteSubsystem(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let reference = try Self.subsystemReference(&decoder)
        try decoder.finish()
        let subsystem = try subsystem(reference)
        do {
            try await nvmf.deleteSubsystem(subsystem.nqn)
        } catch {
            throw Self.invalidParameters
        }
        return .bool(true)
    }

    static func addressJSON(_ address: ListenAddress) -> JSONValue {
        .object([
            ("trtype", .string("TCP")), ("adrfam", .string(address.isIPv6 ? "IPv6" : "IPv4")),
            ("traddr", .string(address.address)), ("trsvcid", .string(address.serviceID)),
        ])
    }

    static func anaName(_ state: LogPages.ANAState) -> String {
        switch state {
        case .optimized: "optimized"
        case .nonOptimized: "non_optimized"
        case .inaccessible: "inaccessible"
        case .persistentLoss: "persistent_loss"
        case .change: "change"
        }
    }

    func getSubsystems(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let nqn = try decoder.string("nqn")
        let targetName = try decoder.string("tgt_name")
        try decoder.finish()
        try Self.checkTarget(targetName)
        var list = nvmf.subsystems
        if let nqn {
            list = list.filter { $0.nqn == nqn }
            guard !list.isEmpty else { throw Self.noSuchDevice }
        }
        return .array(list.map { subsystem in
            var members: [(key: String, value: JSONValue)] = [
                ("nqn", .string(subsystem.nqn)),
                ("subtype", .string(subsystem.isDiscovery ? "Discovery" : "NVMe")),
                ("listen_addresses", .array(subsystem.listeners.map { Self.addressJSON($0.address) })),
                ("allow_any_host", .bool(subsystem.allowAnyHost)),
                ("hosts", .array(subsystem.hosts.map { .object([("nqn", .string($0))]) })),
            ]
            if !subsystem.isDiscovery {
                let options = subsystem.options
                members += [
                    ("serial_number", .string(options.serialNumber)), ("model_number", .string(options.modelNumber)),
                    ("max_namespaces", .integer(options.maxNamespaces)), ("min_cntlid", .integer(options.minControllerID)),
                    ("max_cntlid", .integer(options.maxControllerID)),
                    ("namespaces", .array(subsystem.namespaces.map { namespace in
                        var fields: [(key: String, value: JSONValue)] = [
                            ("nsid", .integer(namespace.namespaceID)), ("bdev_name", .string(namespace.device.name)),
                            ("name", .string(namespace.device.name)),
                            ("nguid", .string(namespace.nguid.map { String(format: "%02X", $0) }.joined())),
                            ("uuid", .string(namespace.uuid.uuidString.lowercased())),
                        ]
                        if options.anaReporting { fields.append(("anagrpid", .integer(namespace.anaGroupID))) }
                        return .object(fields)
                    })),
                ]
            }
            return .object(members)
        })
    }

    // MARK: - Namespaces

    func addNamespace(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        // SPDK decodes the outer params leniently (keys it does not know are ignored), the
        // namespace object strictly.
        var decoder = try Params(params)
        let reference = try Self.subsystemReference(&decoder)
        guard let namespaceParams = try decoder.object("namespace") else { throw Params.decodeFailed }
        var inner = try Params(namespaceParams)
        let bdevName = try inner.requiredString("bdev_name")
        let id = try inner.uint64("nsid")
        let nguidText = try inner.string("nguid")
        let eui64Text = try inner.string("eui64")
        let uuidText = try inner.string("uuid")
        _ = try inner.string("ptpl_file")
        _ = try inner.bool("no_auto_visible")
        let group = try inner.uint64("anagrpid")
        try inner.finish()
        let subsystem = try subsystem(reference)
        guard let device = registry.lookup(bdevName) else { throw Self.invalidParameters }
        var nguid: [UInt8]?
        if let nguidText {
            guard let bytes = Self.hexBytes(nguidText), bytes.count == 16 else { throw Self.invalidParameters }
            nguid = bytes
        }
        if let eui64Text { guard Self.hexBytes(eui64Text)?.count == 8 else { throw Self.invalidParameters } }
        var uuid: UUID?
        if let uuidText {
            guard let parsed = UUID(uuidString: uuidText) else { throw Self.invalidParameters }
            uuid = parsed
        }
        guard id.map({ $0 <= UInt64(UInt32.max) }) ?? true, group.map({ $0 <= UInt64(UInt32.max) }) ?? true else {
            throw Self.invalidParameters
        }
        do {
            let assigned = try subsystem.addNamespace(
                device: device, namespaceID: id.map { UInt32($0) }, uuid: uuid, nguid: nguid, anaGroupID: group.map { UInt32($0) })
            return .integer(assigned)
        } catch {
            logSettings.log(.error, "nvmf_subsystem_add_ns: \(error)")
            throw Self.invalidParameters
        }
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.replacingOccurrences(of: "-", with: "").utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < digits.count {
            guard let byte = UInt8(String(decoding: digits[index..<(index + 2)], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
            index += 2
        }
        return bytes
    }

    /// `nvmf_subsystem_remove_ns`: as SPDK pauses the subsystem around it, commands executing on
    /// the namespace are answered before it goes.
    func removeNamespace(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let reference = try Self.subsystemReference(&decoder)
        let id = try decoder.requiredUInt64("nsid")
        try decoder.finish()
        guard id <= UInt64(UInt32.max) else { throw Params.decodeFailed }
        let subsystem = try subsystem(reference)
        do {
            try await subsystem.removeNamespace(UInt32(id))
        } catch {
            throw Self.invalidParameters
        }
        return .bool(true)
    }

    // MARK: - Listeners

    /// The fields of a `listen_address` object (decoded strictly, as SPDK does).
    struct ListenAddressFields {
        var type: String
        var family: String?
        var address: String
        var service: String?
    }

    static func listenAddressFields(_ value: JSONValue) throws(JSONRPCError) -> ListenAddressFields {
        var decoder = try Params(value)
        let fields = ListenAddressFields(
            type: try decoder.requiredString("trtype"), family: try decoder.string("adrfam"),
            address: try decoder.requiredString("traddr"), service: try decoder.string("trsvcid"))
        try decoder.finish()
        return fields
    }

    /// A listen address SPDK accepts: TCP, IPv4 (the default) or IPv6, with a service id.
    func listenAddress(_ fields: ListenAddressFields) throws(JSONRPCError) -> ListenAddress {
        let family = fields.family ?? "IPv4"
        guard fields.type.uppercased() == "TCP", ["ipv4", "ipv6"].contains(family.lowercased()), let service = fields.service else {
            logSettings.log(.error, "invalid listen address: trtype \(fields.type), adrfam \(family), trsvcid \(fields.service ?? "none")")
            throw Self.invalidParameters
        }
        return ListenAddress(address: fields.address, serviceID: service, isIPv6: family.lowercased() == "ipv6")
    }

    func anaState(_ name: String) throws(JSONRPCError) -> LogPages.ANAState {
        switch name {
        case "optimized": return .optimized
        case "non_optimized": return .nonOptimized
        case "inaccessible": return .inaccessible
        default:
            logSettings.log(.error, "invalid ana_state \(name)")
            throw Self.invalidParameters
        }
    }

    /// add_listener decodes leniently (keys of other transports are ignored), remove_listener
    /// strictly; both know `secure_channel`, `ana_state` and `sock_impl`.
    func changeListener(_ params: JSONValue?, add: Bool) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let reference = try Self.subsystemReference(&decoder)
        guard let addressJSON = try decoder.object("listen_address") else { throw Params.decodeFailed }
        let fields = try Self.listenAddressFields(addressJSON)
        _ = try decoder.bool("secure_channel")
        let anaName = try decoder.string("ana_state")
        _ = try decoder.string("sock_impl")
        if !add { try decoder.finish() }
        let subsystem = try subsystem(reference)
        let address = try listenAddress(fields)
        let state = add ? try anaName.map { name throws(JSONRPCError) in try anaState(name) } ?? .optimized : .optimized
        do {
            if add {
                try nvmf.addListener(subsystem, address, anaState: state)
            } else {
                try nvmf.removeListener(subsystem, address)
            }
        } catch {
            logSettings.log(.error, "nvmf_subsystem_\(add ? "add" : "remove")_listener \(reference.nqn): \(error)")
            throw Self.invalidParameters
        }
        return .bool(true)
    }

    func getListeners(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let reference = try Self.subsystemReference(&decoder)
        try decoder.finish()
        let subsystem = try subsystem(reference, targetMessage: "Unable to find a target")
        return .array(subsystem.listeners.map { listener in
            var fields: [(key: String, value: JSONValue)] = [("address", Self.addressJSON(listener.address))]
            if subsystem.options.anaReporting {
                let state = JSONValue.string(Self.anaName(listener.anaState))
                fields.append(("ana_state", state))
                fields.append(("ana_states", .array(subsystem.namespaces.map { namespace in
                    .object([("ana_group", .integer(namespace.anaGroupID)), ("ana_state", state)])
                })))
            }
            return .object(fields)
        })
    }

    func setANAState(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let reference = try Self.subsystemReference(&decoder)
        guard let addressJSON = try decoder.object("listen_address") else { throw Params.decodeFailed }
        let fields = try Self.listenAddressFields(addressJSON)
        let stateName = try decoder.requiredString("ana_state")
        _ = try decoder.uint64("anagrpid")
        try decoder.finish()
        let subsystem = try subsystem(
            reference, missing: JSONRPCError(code: -32602, message: "Unable to find subsystem with NQN \(reference.nqn)"))
        let address = try listenAddress(fields)
        let state = try anaState(stateName)
        // SPDK's completion callback reports -EINVAL for a subsystem without ANA reporting and
        // for a listener it does not have.
        let failed = JSONRPCError(code: -32603, message: "error setting ANA state: -22")
        guard subsystem.options.anaReporting else {
            logSettings.log(.error, "nvmf_subsystem_listener_set_ana_state \(reference.nqn): ANA reporting is disabled")
            throw failed
        }
        do {
            try subsystem.setANAState(state, for: address)
        } catch {
            logSettings.log(.error, "nvmf_subsystem_listener_set_ana_state \(reference.nqn): \(error)")
            throw failed
        }
        return .bool(true)
    }

    // MARK: - Hosts

    /// add_host decodes leniently (SPDK passes the rest, e.g. `psk`, to the transport),
    /// remove_host strictly. Keys (`psk`, `dhchap_key`, `dhchap_ctrlr_key`) are refused as SPDK
    /// refuses a key its keyring does not hold: this daemon has no keyring.
    func changeHost(_ params: JSONValue?, add: Bool) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let reference = try Self.subsystemReference(&decoder)
        let host = try decoder.requiredString("host")
        var keys: [String] = []
        for key in add ? ["psk", "dhchap_key", "dhchap_ctrlr_key"] : ["dhchap_key", "dhchap_ctrlr_key"] {
            if try decoder.string(key) != nil { keys.append(key) }
        }
        if !add { try decoder.finish() }
        let subsystem = try subsystem(reference)
        if add, !keys.isEmpty {
            logSettings.log(.error, "nvmf_subsystem_add_host: \(keys.joined(separator: ", ")): authentication is not supported")
            throw Self.invalidParameters
        }
        do {
            if add { try subsystem.addHost(host) } else { try subsystem.removeHost(host) }
        } catch {
            logSettings.log(.error, "nvmf_subsystem_\(add ? "add" : "remove")_host \(reference.nqn) \(host): \(error)")
            throw JSONRPCError.internalError()
        }
        return .bool(true)
    }

    func allowAnyHost(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let reference = try Self.subsystemReference(&decoder)
        guard let allow = try decoder.bool("allow_any_host") else { throw Params.decodeFailed }
        try decoder.finish()
        let subsystem = try subsystem(reference)
        subsystem.setAllowAnyHost(allow)
        return .bool(true)
    }

    // MARK: - Reports

    func getControllers(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let reference = try Self.subsystemReference(&decoder)
        try decoder.finish()
        let subsystem = try subsystem(reference, targetMessage: "Unable to find a target")
        return .array(await nvmf.controllers(of: subsystem).map { report in
            .object([
                ("cntlid", .integer(report.controllerID)), ("hostnqn", .string(report.hostNQN)),
                ("hostid", .string(report.hostID.uuidString.lowercased())), ("num_io_qpairs", .integer(report.ioQueuePairs)),
            ])
        })
    }

    func getQueuePairs(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let reference = try Self.subsystemReference(&decoder)
        try decoder.finish()
        let subsystem = try subsystem(reference, targetMessage: "Unable to find a target")
        return .array(await nvmf.queuePairs(of: subsystem).map { report in
            .object([
                ("cntlid", .integer(report.controllerID)), ("qid", .integer(report.queueID)), ("state", .string("enabled")),
                ("thread", .string(reactor.name)), ("hostnqn", .string(report.hostNQN)),
                ("listen_address", Self.addressJSON(report.listenAddress)), ("peer_address", Self.addressJSON(report.peerAddress)),
            ])
        })
    }

    func getStats(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let targetName = try decoder.string("tgt_name")
        try decoder.finish()
        try Self.checkTarget(targetName)
        return .object([
            ("tick_rate", .integer(1_000_000_000)),
            ("poll_groups", .array([.object([
                ("name", .string("nvmf_tgt_poll_group_000")),
                ("admin_qpairs", .integer(nvmf.adminQueuePairsCreated.load(ordering: .relaxed))),
                ("io_qpairs", .integer(nvmf.ioQueuePairsCreated.load(ordering: .relaxed))),
                ("current_admin_qpairs", .integer(nvmf.currentAdminQueuePairs.load(ordering: .relaxed))),
                ("current_io_qpairs", .integer(nvmf.currentIOQueuePairs.load(ordering: .relaxed))),
                ("pending_bdev_io", .integer(0)),
                ("completed_nvme_io", .integer(nvmf.completedCommands.load(ordering: .relaxed))),
                ("transports", .array(nvmf.transport == nil ? [] : [.object([("trtype", .string("TCP"))])])),
            ])])),
        ])
    }
}
