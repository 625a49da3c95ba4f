// The V2 instance manager's DiskService as the node controller drives it (longhorn-api.md §3.8):
// DiskGet; when the disk is not found, DiskCreate with the UUID the node recorded (so an lvstore
// the device already holds is attached again, never a new one made over it); the disk is then
// polled with DiskGet until it is `ready`. A disk removed from the node is DiskDeleted (the lvstore
// stays on the device).

import GRPCCore
import GRPCNIOTransportHTTP2Posix
import InstanceManagerAPI
import ManagerModel
import SwiftProtobuf

/// What the disk service reported of a block disk, or why it could not.
enum BlockDiskObservation: Sendable, Equatable {
    case ready(Imrpc_Disk)
    /// Created or being created: not ready yet.
    case pending(state: String)
    /// The disk service reports the disk failed.
    case failed(String)
    /// The disk service cannot be reached.
    case unreachable(String)
    /// A call failed otherwise.
    case callFailed(String)
}

struct BlockDiskService: Sendable {
    let address: InstanceManagerAddress

    /// Gets the disk, creating it when the disk service does not know it.
    func observe(name: String, spec: DiskSpec, recordedUUID: String) async -> BlockDiskObservation {
        do {
            return try await GRPCConnection.with(host: address.host, port: address.diskServicePort) { client in
                let disks = Imrpc_DiskService.Client(wrapping: client)
                do {
                    let disk = try await disks.diskGet(Self.getRequest(name, spec), options: GRPCConnection.callOptions)
                    return Self.observation(disk)
                } catch let error as RPCError where Self.isNotFound(error) {
                    let disk = try await disks.diskCreate(
                        Self.createRequest(name, spec, uuid: recordedUUID), options: GRPCConnection.callOptions)
                    return Self.observation(disk)
                }
            }
        } catch let error as RPCError where error.code == .unavailable || error.code == .deadlineExceeded {
            return .unreachable(
                "the disk service at \(address.host):\(address.diskServicePort) cannot be reached: \(error.message)")
        } catch let error as RPCError {
            return .callFailed("\(error.code): \(error.message)")
        } catch {
            return .unreachable(
                "the disk service at \(address.host):\(address.diskServicePort) cannot be reached: \(error)")
        }
    }

    /// Deletes the disk; a disk the service does not know is already deleted.
    func delete(name: String, status: DiskStatus) async throws {
        let request = Imrpc_DiskDeleteRequest.with {
            $0.diskType = .block
            $0.diskName = name
            $0.diskUuid = status.diskUUID
            $0.diskPath = status.diskPath
            $0.diskDriver = status.diskDriver.rawValue
        }
        try await GRPCConnection.with(host: address.host, port: address.diskServicePort) { client in
            do {
                _ = try await Imrpc_DiskService.Client(wrapping: client).diskDelete(
                    request, options: GRPCConnection.callOptions)
            } catch let error as RPCError where Self.isNotFound(error) {
                return
            }
        }
    }

    private static func observation(_ disk: Imrpc_Disk) -> BlockDiskObservation {
        switch disk.state {
        case "ready": .ready(disk)
        case "error": .failed("the disk service reports disk \(disk.name) in state error")
        default: .pending(state: disk.state)
        }
    }

    /// Longhorn's manager knows a missing disk by "cannot find" in the message.
    static func isNotFound(_ error: RPCError) -> Bool {
        error.code == .notFound || error.message.contains("cannot find")
    }

    private static func getRequest(_ name: String, _ spec: DiskSpec) -> Imrpc_DiskGetRequest {
        var request = Imrpc_DiskGetRequest()
        request.diskType = .block
        request.diskName = name
        request.diskPath = spec.path
        request.diskDriver = spec.diskDriver.rawValue
        return request
    }

    private static func createRequest(_ name: String, _ spec: DiskSpec, uuid: String) -> Imrpc_DiskCreateRequest {
        var request = Imrpc_DiskCreateRequest()
        request.diskType = .block
        request.diskName = name
        request.diskUuid = uuid
        request.diskPath = spec.path
        request.diskDriver = spec.diskDriver.rawValue
        request.blockSize = 512
        return request
    }
}
