// Typed calls to `hornbill tgt` (SPDK's JSON-RPC method names and parameters) for the V2
// instance manager. Every failure becomes an InstanceManagerError: a tgt error is `.internalError`
// with the method, the tgt's message and its code; an unreachable tgt is `.unavailable`.

import JSONRPC

struct SPDKClient: Sendable {
    let rpc: JSONRPCAsyncClient

    init(socketPath: String, timeout: Duration) {
        rpc = JSONRPCAsyncClient(path: socketPath, defaultTimeout: timeout)
    }

    /// A tgt error code (negative errno, or JSON-RPC's), when the call failed with one.
    static func code(of error: InstanceManagerError) -> Int32? { error.tgtCode }

    @discardableResult
    func call(
        _ method: String, _ members: [(String, JSONValue)]? = nil, timeout: Duration? = nil
    ) async throws(InstanceManagerError) -> JSONValue {
        let params: JSONValue? = members.map { .object($0.map { (key: $0.0, value: $0.1) }) }
        do {
            return try await rpc.call(method, params: params, timeout: timeout)
        } catch {
            switch error {
            case .server(let failure):
                var result = InstanceManagerError(
                    .internalError, "\(method) failed: \(failure.message) (code \(failure.code))")
                result.tgtCode = failure.code
                throw result
            case .unavailable(let reason), .timedOut(let reason):
                throw InstanceManagerError(.unavailable, "the tgt at \(rpc.path) is unavailable: \(reason)")
            case .malformedReply(let reason):
                throw InstanceManagerError(.internalError, "the tgt at \(rpc.path) answered badly: \(reason)")
            }
        }
    }

    /// Calls a method whose failure with one of `tolerated` codes means "already so" (a blind cleanup).
    func callTolerating(
        _ tolerated: Set<Int32>, _ method: String, _ members: [(String, JSONValue)]
    ) async throws(InstanceManagerError) {
        do {
            try await call(method, members)
        } catch {
            guard let code = error.tgtCode, tolerated.contains(code) else { throw error }
        }
    }

    // MARK: bdevs

    func bdevs() async throws(InstanceManagerError) -> [TgtBdev] {
        guard case .array(let items) = try await call("bdev_get_bdevs") else { return [] }
        return items.compactMap(TgtBdev.init)
    }

    func bdev(_ name: String) async throws(InstanceManagerError) -> TgtBdev? {
        do {
            guard case .array(let items) = try await call("bdev_get_bdevs", [("name", .string(name))]) else {
                return nil
            }
            return items.compactMap(TgtBdev.init).first
        } catch {
            if error.tgtCode == -19 { return nil }
            throw error
        }
    }

    func aioCreate(name: String, filename: String, blockSize: Int) async throws(InstanceManagerError) {
        try await call(
            "bdev_aio_create",
            [("name", .string(name)), ("filename", .string(filename)), ("block_size", .integer(blockSize))])
    }

    func aioDelete(name: String) async throws(InstanceManagerError) {
        try await callTolerating([-19], "bdev_aio_delete", [("name", .string(name))])
    }

    // MARK: lvstores and lvols

    func lvstores() async throws(InstanceManagerError) -> [TgtLvstore] {
        guard case .array(let items) = try await call("bdev_lvol_get_lvstores") else { return [] }
        return items.compactMap(TgtLvstore.init)
    }

    func lvstoreCreate(bdev: String, name: String, clusterSize: Int) async throws(InstanceManagerError) {
        try await call(
            "bdev_lvol_create_lvstore",
            [
                ("bdev_name", .string(bdev)), ("lvs_name", .string(name)), ("cluster_sz", .integer(clusterSize)),
            ])
    }

    func lvstoreRename(from old: String, to new: String) async throws(InstanceManagerError) {
        try await call("bdev_lvol_rename_lvstore", [("old_name", .string(old)), ("new_name", .string(new))])
    }

    func lvolCreate(lvstoreUUID: String, name: String, sizeMiB: UInt64) async throws(InstanceManagerError) {
        try await call(
            "bdev_lvol_create",
            [
                ("uuid", .string(lvstoreUUID)), ("lvol_name", .string(name)), ("size_in_mib", .integer(sizeMiB)),
                ("thin_provision", .bool(true)), ("clear_method", .string("unmap")),
            ])
    }

    func lvolResize(name: String, sizeMiB: UInt64) async throws(InstanceManagerError) {
        try await call("bdev_lvol_resize", [("name", .string(name)), ("size_in_mib", .integer(sizeMiB))])
    }

    func lvolDelete(name: String) async throws(InstanceManagerError) {
        try await callTolerating([-19], "bdev_lvol_delete", [("name", .string(name))])
    }

    func lvolSetXattr(name: String, key: String, value: String) async throws(InstanceManagerError) {
        try await call(
            "bdev_lvol_set_xattr",
            [("name", .string(name)), ("xattr_name", .string(key)), ("xattr_value", .string(value))])
    }

    /// An lvol's xattr; nil when the lvol has none of that name (the tgt's ENOENT, -32603).
    func lvolGetXattr(name: String, key: String) async throws(InstanceManagerError) -> String? {
        do {
            return try await call("bdev_lvol_get_xattr", [("name", .string(name)), ("xattr_name", .string(key))])
                .stringValue
        } catch {
            if error.tgtCode == -32603 && error.message.contains("No such file or directory") { return nil }
            throw error
        }
    }

    // MARK: NVMe-oF target

    func ensureTCPTransport() async throws(InstanceManagerError) {
        if case .array(let transports) = try await call("nvmf_get_transports"),
            transports.contains(where: { ($0["trtype"]).flatMap(\.stringValue)?.uppercased() == "TCP" })
        {
            return
        }
        // A concurrent creator may win: "already exists" is success.
        try await callTolerating([-32603], "nvmf_create_transport", [("trtype", .string("TCP"))])
    }

    func subsystems() async throws(InstanceManagerError) -> [TgtSubsystem] {
        guard case .array(let items) = try await call("nvmf_get_subsystems") else { return [] }
        return items.compactMap(TgtSubsystem.init)
    }

    /// Exposes `bdev` as the one namespace of a new subsystem listening on `ip:port`.
    /// A failure leaves no half-made subsystem behind (the next attempt starts clean).
    func expose(nqn: String, bdev: String, ip: String, port: Int) async throws(InstanceManagerError) {
        try await ensureTCPTransport()
        try await call("nvmf_create_subsystem", [("nqn", .string(nqn)), ("allow_any_host", .bool(true))])
        do throws(InstanceManagerError) {
            try await addNamespaceAndListener(nqn: nqn, bdev: bdev, ip: ip, port: port)
        } catch {
            try? await unexpose(nqn: nqn)
            throw error
        }
    }

    private func addNamespaceAndListener(nqn: String, bdev: String, ip: String, port: Int)
        async throws(InstanceManagerError)
    {
        try await call(
            "nvmf_subsystem_add_ns", [("nqn", .string(nqn)), ("namespace", .object([("bdev_name", .string(bdev))]))])
        try await call(
            "nvmf_subsystem_add_listener",
            [
                ("nqn", .string(nqn)),
                (
                    "listen_address",
                    .object([
                        ("trtype", .string("TCP")), ("adrfam", .string(ip.contains(":") ? "IPv6" : "IPv4")),
                        ("traddr", .string(ip)), ("trsvcid", .string(String(port))),
                    ])
                ),
            ])
    }

    /// Deletes a subsystem (its listeners and namespaces go with it); an unknown one is fine.
    func unexpose(nqn: String) async throws(InstanceManagerError) {
        try await callTolerating([-32602], "nvmf_delete_subsystem", [("nqn", .string(nqn))])
    }

    // MARK: NVMe/TCP host

    func attachController(
        name: String, ip: String, port: Int, subnqn: String, timeouts: ControllerTimeouts
    ) async throws(InstanceManagerError) -> [String] {
        let result = try await call(
            "bdev_nvme_attach_controller",
            [
                ("name", .string(name)), ("trtype", .string("tcp")), ("traddr", .string(ip)),
                ("adrfam", .string(ip.contains(":") ? "ipv6" : "ipv4")), ("trsvcid", .string(String(port))),
                ("subnqn", .string(subnqn)), ("ctrlr_loss_timeout_sec", .integer(timeouts.controllerLossTimeout)),
                ("reconnect_delay_sec", .integer(timeouts.reconnectDelay)),
                ("fast_io_fail_timeout_sec", .integer(timeouts.fastIOFailTimeout)), ("multipath", .string("disable")),
            ])
        guard case .array(let names) = result else { return [] }
        return names.compactMap(\.stringValue)
    }

    func detachController(name: String) async throws(InstanceManagerError) {
        try await callTolerating([-19], "bdev_nvme_detach_controller", [("name", .string(name))])
    }

    // MARK: RAID

    func raidCreate(name: String, bases: [String]) async throws(InstanceManagerError) {
        try await call(
            "bdev_raid_create",
            [
                ("name", .string(name)), ("raid_level", .string("1")), ("strip_size_kb", .integer(0)),
                ("base_bdevs", .array(bases.map { .string($0) })),
            ])
    }

    func raidDelete(name: String) async throws(InstanceManagerError) {
        try await callTolerating([-19], "bdev_raid_delete", [("name", .string(name))])
    }

    func raids() async throws(InstanceManagerError) -> [TgtRaid] {
        guard case .array(let items) = try await call("bdev_raid_get_bdevs", [("category", .string("all"))]) else {
            return []
        }
        return items.compactMap(TgtRaid.init)
    }

    func raidGrow(raid: String, base: String) async throws(InstanceManagerError) {
        try await call("bdev_raid_grow_base_bdev", [("raid_name", .string(raid)), ("base_name", .string(base))])
    }

    func raidRemoveBase(_ base: String) async throws(InstanceManagerError) {
        try await callTolerating([-19], "bdev_raid_remove_base_bdev", [("name", .string(base))])
    }

    // MARK: NBD exports

    func nbdExport(name: String, bdev: String, ip: String, port: Int) async throws(InstanceManagerError) {
        try await call(
            "nbd_export_create",
            [
                ("name", .string(name)), ("bdev_name", .string(bdev)),
                ("listen_address", .object([("traddr", .string(ip)), ("trsvcid", .string(String(port)))])),
            ])
    }

    func nbdExports() async throws(InstanceManagerError) -> [TgtNBDExport] {
        guard case .array(let items) = try await call("nbd_export_list") else { return [] }
        return items.compactMap(TgtNBDExport.init)
    }

    func nbdUnexport(name: String) async throws(InstanceManagerError) {
        try await callTolerating([-19], "nbd_export_delete", [("name", .string(name))])
    }
}
