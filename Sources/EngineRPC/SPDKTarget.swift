// The SPDK method table of `hornbill tgt` (spdk.md §2): decodes each method's params strictly,
// calls the engine modules, and maps their errors to SPDK's codes. Engine modules know nothing of
// JSON; this is the only place where the two meet (design/STYLE.md #3).

public import BlockCore
public import BlockDevices
import Foundation
public import JSONRPC
import LogicalVolumes
public import NBD
public import NVMeTCP
import Synchronization

public final class SPDKTarget: JSONRPCMethodHandler {
    public let registry: BlockDeviceRegistry
    let reactor: Reactor
    let onKill: @Sendable () -> Void
    /// Log level, print level and flags (the log_* methods).
    public let logSettings = LogSettings()
    private let mallocCounter = Atomic<Int>(0)
    let stores = Mutex<[String: LogicalVolumeStore]>([:])  // by base bdev name
    /// The NVMe-oF target (nvmf_* methods).
    public let nvmf: NVMfTarget
    /// The NBD exports (nbd_export_* methods).
    public let nbd: NBDServer
    /// Attached NVMe controllers by name, and the options later attaches start from.
    let nvmeControllers = Mutex<[String: NVMeHostController]>([:])
    let nvmeDefaults = Mutex(NVMeDefaults())

    typealias Method = @Sendable (SPDKTarget, JSONValue?) async throws -> JSONValue

    static let methods: [String: Method] = coreMethods.merging(lvolMethods) { first, _ in first }
        .merging(logMethods) { first, _ in first }
        .merging(statMethods) { first, _ in first }
        .merging(nvmfMethods) { first, _ in first }
        .merging(nvmeMethods) { first, _ in first }
        .merging(raidMethods) { first, _ in first }
        .merging(nbdMethods) { first, _ in first }

    static let coreMethods: [String: Method] = [
        "rpc_get_methods": { target, params in try target.rpcGetMethods(params) },
        "spdk_get_version": { _, params in try SPDKTarget.version(params) },
        "spdk_kill_instance": { target, params in try target.kill(params) },
        // The framework is always initialized here (see docs/spdk-compatibility.md).
        "framework_start_init": { _, params in
            try SPDKTarget.noParams(params, "framework_start_init requires no parameters")
            return .bool(true)
        },
        // SPDK's handler does not look at its params.
        "framework_wait_init": { _, _ in .bool(true) },
        "bdev_get_bdevs": { target, params in try await target.getBdevs(params) },
        "bdev_wait_for_examine": { _, params in
            try SPDKTarget.noParams(params, "bdev_wait_for_examine requires no parameters")
            return .bool(true)
        },
        "bdev_examine": { target, params in try await target.examine(params) },
        "bdev_malloc_create": { target, params in try target.mallocCreate(params) },
        "bdev_malloc_delete": { target, params in try await target.deleteBdev(params, as: MallocDevice.self) },
        "bdev_aio_create": { target, params in try await target.aioCreate(params) },
        "bdev_aio_delete": { target, params in try await target.aioDelete(params) },
        "bdev_aio_rescan": { target, params in try target.aioRescan(params) },
    ]

    public init(registry: BlockDeviceRegistry, reactor: Reactor, onKill: @escaping @Sendable () -> Void) {
        self.registry = registry
        self.reactor = reactor
        self.onKill = onKill
        nvmf = NVMfTarget(reactor: reactor)
        nbd = NBDServer(reactor: reactor)
    }

    /// Methods that wait for an event and stop waiting when their client disconnects (their task
    /// is cancelled). Every other method finishes what it started whatever its client does, as in
    /// SPDK, where a reply to a closed connection is dropped.
    static let waitingMethods: Set<String> = ["bdev_get_bdevs"]

    public func handle(_ request: JSONRPCRequest) async -> Result<JSONValue, JSONRPCError> {
        guard let method = Self.methods[request.method] else {
            logSettings.log(.error, "unknown method \(request.method)")
            return .failure(.methodNotFound)
        }
        if logSettings.isEnabled("rpc") { logSettings.log(.debug, "rpc \(request.method)") }
        do {
            if Self.waitingMethods.contains(request.method) {
                return .success(try await method(self, request.params))
            }
            // A task of its own: the connection's cancellation does not reach it.
            let params = request.params
            return .success(try await Task { try await method(self, params) }.value)
        } catch {
            let reply = Self.failure(error)
            if reply != Self.clientDisconnected {
                logSettings.log(.error, "\(request.method) failed: \(reply.code) \(reply.message)")
            }
            return .failure(reply)
        }
    }

    // MARK: - Errors

    /// SPDK's usual reply for a failed operation: -errno with strerror's text.
    static func failure(_ error: any Error) -> JSONRPCError {
        if let error = error as? JSONRPCError { return error }
        let code = (error as? BlockError)?.errnoValue ?? 5
        return JSONRPCError(code: -code, message: String(cString: strerror(code)))
    }

    static let noSuchDevice = JSONRPCError(code: -19, message: "No such device")
    /// What a waiting request ends with when its client went away (the reply is never sent).
    static let clientDisconnected = JSONRPCError(code: -125, message: "Operation canceled")

    /// -32602 with the method's own `message` when params are present (SPDK checks
    /// `params != NULL`; an explicit `null` is "no params" already).
    static func noParams(_ params: JSONValue?, _ message: String) throws(JSONRPCError) {
        guard params == nil else { throw .invalidParams(message) }
    }

    // MARK: - Framework

    func rpcGetMethods(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        do {
            var decoder = try Params(params)
            _ = try decoder.bool("current")
            _ = try decoder.bool("include_aliases")
            try decoder.finish()
        } catch {
            throw .invalidParams()
        }
        return .array(Self.methods.keys.sorted().map { .string($0) })
    }

    static func version(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        try noParams(params, "spdk_get_version method requires no parameters")
        return .object([
            ("version", .string("SPDK v24.09.1-pre")),
            ("fields", .object([
                ("major", .integer(24)), ("minor", .integer(9)), ("patch", .integer(1)), ("suffix", .string("-pre")),
            ])),
        ])
    }

    /// The signals spdk_kill_instance sends, by name or number. Each stops this daemon.
    static let killSignals: [(name: String, number: Int32)] = [
        ("SIGINT", SIGINT), ("SIGTERM", SIGTERM), ("SIGQUIT", SIGQUIT), ("SIGHUP", SIGHUP), ("SIGKILL", SIGKILL),
        ("SIGUSR1", SIGUSR1),
    ]

    func kill(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        // SPDK answers both a decode failure and an unknown signal with -32602 "Invalid parameters".
        let signal: String
        do {
            var decoder = try Params(params)
            signal = try decoder.requiredString("sig_name")
            try decoder.finish()
        } catch {
            throw .invalidParams()
        }
        guard Self.killSignals.contains(where: { $0.name == signal || Int32(signal) == $0.number }) else {
            throw .invalidParams()
        }
        onKill()
        return .bool(true)
    }

    // MARK: - Bdevs

    func getBdevs(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.string("name")
        let timeout = try decoder.uint64("timeout") ?? 0
        try decoder.finish()
        guard let name else { return .array(registry.all.map(BdevJSON.describe)) }
        if let device = registry.lookup(name) { return .array([BdevJSON.describe(device)]) }
        guard timeout > 0 else { throw Self.noSuchDevice }
        // Woken by the registration itself; waiting costs one timer for the deadline.
        let wait = Duration.milliseconds(Int64(min(timeout, EngineRPCLimits.maxWaitMilliseconds)))
        if let device = await registry.device(named: name, waitingUpTo: wait) { return .array([BdevJSON.describe(device)]) }
        if Task.isCancelled {
            logSettings.log(.info, "bdev_get_bdevs: stopped waiting for \(name): the client disconnected")
            throw Self.clientDisconnected
        }
        throw JSONRPCError(code: -110, message: "Connection timed out")
    }

    func examine(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        // SPDK's bdev_examine is the one bdev handler that reports a decode failure as -32602.
        let name: String
        do {
            var decoder = try Params(params)
            name = try decoder.requiredString("name")
            try decoder.finish()
        } catch {
            throw .invalidParams("spdk_json_decode_object failed")
        }
        guard let device = registry.lookup(name) else { throw Self.noSuchDevice }
        do {
            try await examine(device)
        } catch {
            throw Self.failure(error)
        }
        return .bool(true)
    }

    /// The lvol module's examine: a device holding an lvstore that is not loaded yet gets it
    /// loaded, with its lvols registered. A claimed device (an lvstore is on it already) is skipped.
    func examine(_ device: any BlockDevice) async throws {
        guard device.claims.current.claimant == nil, device.claims.current.writers == 0, !device.claims.isRemoving,
            device.supportedIOTypes.contains(.write)
        else { return }
        if let store = try await LogicalVolumeStore.load(from: device, executor: reactor, registry: registry) {
            stores.withLock { $0[device.name] = store }
        }
    }

    func mallocCreate(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let blocks = try decoder.requiredUInt64("num_blocks")
        let blockSize = try decoder.requiredUInt64("block_size")
        let requestedName = try decoder.string("name")
        let uuidText = try decoder.string("uuid")
        for ignored in ["physical_block_size", "optimal_io_boundary", "numa_id", "dif_type", "dif_pi_format"] {
            _ = try decoder.uint64(ignored)
        }
        let metadataSize = try decoder.uint64("md_size") ?? 0
        _ = try decoder.bool("md_interleave")
        _ = try decoder.bool("dif_is_head_of_md")
        try decoder.finish()
        guard metadataSize == 0 else { throw .invalidParams("metadata (md_size) is not supported") }
        var uuid = UUID()
        if let uuidText {
            // spdk_json_decode_uuid: a malformed UUID fails the decode.
            guard let parsed = UUID(uuidString: uuidText) else { throw Params.decodeFailed }
            uuid = parsed
        }
        let name = requestedName ?? "Malloc\(mallocCounter.wrappingAdd(1, ordering: .relaxed).oldValue)"
        do {
            guard blockSize <= UInt64(BlockLimits.maxBlockSize) else {
                throw BlockError(.invalidArgument, "block size \(blockSize) too large")
            }
            let device = try MallocDevice(name: name, blockCount: blocks, blockSize: Int(blockSize), uuid: uuid)
            try registry.register(device)
        } catch {
            throw Self.failure(error)
        }
        return .string(name)
    }

    /// Deletes a base bdev the way SPDK's delete methods do: a hot remove. What sits on it (an
    /// lvstore and its lvols, exports, namespaces, RAID legs) lets go before the reply.
    func deleteBdev<Device: BlockDevice>(_ params: JSONValue?, as type: Device.Type) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.requiredString("name")
        try decoder.finish()
        guard let device = registry.lookup(name) as? Device else { throw Self.noSuchDevice }
        await hotRemove(device)
        return .bool(true)
    }

    /// Hot-removes a registered device and logs what went (spdk_bdev_unregister).
    func hotRemove(_ device: any BlockDevice) async {
        guard (try? await registry.remove(name: device.name)) != nil else { return }
        logSettings.log(.notice, "bdev \(device.name) removed")
    }

    func aioCreate(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.requiredString("name")
        let filename = try decoder.requiredString("filename")
        let blockSize = try decoder.uint64("block_size") ?? 0
        let readOnly = try decoder.bool("readonly") ?? false
        _ = try decoder.bool("fallocate")
        let uuidText = try decoder.string("uuid")
        _ = try decoder.bool("nowait")
        try decoder.finish()
        // spdk_json_decode_uuid: a malformed UUID fails the decode.
        if let uuidText, UUID(uuidString: uuidText) == nil { throw Params.decodeFailed }
        // block_size is a uint32 to SPDK's decoder; a larger number never reaches the device.
        guard blockSize <= UInt64(UInt32.max) else { throw Params.decodeFailed }
        guard registry.lookup(name) == nil else { throw JSONRPCError(code: -17, message: "File exists") }
        do {
            let uuid = uuidText.flatMap { UUID(uuidString: $0) } ?? UUID()
            let device = try AIODevice(
                name: name, path: filename, blockSize: blockSize == 0 ? nil : Int(blockSize), readOnly: readOnly, uuid: uuid)
            try registry.register(device)
            // Examine before replying: an lvstore on the device comes back with all its lvols.
            try await examine(device)
        } catch {
            throw Self.failure(error)
        }
        return .string(name)
    }

    func aioDelete(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.requiredString("name")
        try decoder.finish()
        guard let device = registry.lookup(name) as? AIODevice else { throw Self.noSuchDevice }
        // Hot removal: the lvstore on it is unloaded and its lvols vanish; data stays.
        await hotRemove(device)
        return .bool(true)
    }

    func aioRescan(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.requiredString("name")
        try decoder.finish()
        guard let device = registry.lookup(name) as? AIODevice else { throw Self.noSuchDevice }
        do {
            try device.rescan()
        } catch {
            throw Self.failure(error)
        }
        return .bool(true)
    }

    /// Closes every lvstore cleanly (at shutdown).
    public func closeAll() async {
        await nvmf.stop()
        await nbd.stop()
        let controllers = nvmeControllers.withLock { controllers in
            defer { controllers.removeAll() }
            return Array(controllers.values)
        }
        for controller in controllers { await controller.detach() }
        let all = stores.withLock { stores in
            let list = Array(stores.values)
            stores.removeAll()
            return list
        }
        for store in all { try? await store.close() }
    }
}
