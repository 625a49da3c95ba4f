// The NBD export methods: nbd_export_create, nbd_export_delete, nbd_export_list. Any bdev can be
// exported (lvol, RAID1, malloc, aio, NVMe); NBD clients (qemu, nbdinfo, nbdcopy, fio's nbd
// engine, nbd-client) then read and write it over TCP.

import BlockCore
import BlockDevices
import JSONRPC
import NBD

extension SPDKTarget {
    static let nbdMethods: [String: Method] = [
        "nbd_export_create": { target, params in try target.createNBDExport(params) },
        "nbd_export_delete": { target, params in try await target.deleteNBDExport(params) },
        "nbd_export_list": { target, params in try target.listNBDExports(params) },
    ]

    func createNBDExport(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.requiredString("name")
        let bdevName = try decoder.requiredString("bdev_name")
        guard let addressJSON = try decoder.object("listen_address") else { throw Params.decodeFailed }
        let readOnly = try decoder.bool("read_only") ?? false
        try decoder.finish()
        var inner = try Params(addressJSON)
        let host = try inner.requiredString("traddr")
        let service = try inner.requiredString("trsvcid")
        try inner.finish()
        guard let port = UInt16(service) else { throw JSONRPCError(code: -32602, message: "trsvcid \(service) is not a port number") }
        guard let device = registry.lookup(bdevName) else { throw Self.noSuchDevice }
        do {
            try nbd.createExport(name: name, device: device, address: NBDAddress(host: host, port: port), readOnly: readOnly)
        } catch let error as BlockError where error.code == .alreadyExists {
            throw JSONRPCError(code: -17, message: "File exists: \(error.message)")
        } catch let error as BlockError where error.code == .claimed || error.code == .busy {
            throw JSONRPCError(code: -16, message: "Device or resource busy: \(error.message)")
        } catch let error as BlockError where error.code == .invalidArgument {
            throw JSONRPCError(code: -32602, message: error.message)
        } catch {
            throw JSONRPCError(code: -(((error as? BlockError)?.errnoValue) ?? 5), message: "\(error)")
        }
        return .bool(true)
    }

    func deleteNBDExport(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.requiredString("name")
        try decoder.finish()
        do {
            try await nbd.deleteExport(name: name)
        } catch {
            throw Self.noSuchDevice
        }
        return .bool(true)
    }

    func listNBDExports(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.string("name")
        try decoder.finish()
        var exports = nbd.exports
        if let name {
            exports = exports.filter { $0.name == name }
            guard !exports.isEmpty else { throw Self.noSuchDevice }
        }
        return .array(exports.map { export in
            let port = nbd.boundPort(export.address) ?? export.address.port
            return .object([
                ("name", .string(export.name)), ("bdev_name", .string(export.device.name)),
                ("listen_address", .object([("traddr", .string(export.address.host)), ("trsvcid", .string(String(port)))])),
                ("read_only", .bool(export.readOnly)), ("connections", .integer(export.connections)),
            ])
        })
    }
}
