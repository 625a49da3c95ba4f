// The proxy service's RPCs this instance manager does not serve (snapshots, backups, expansion,
// frontends, rebuilding controls, backing images, metrics, …): each answers Unimplemented naming
// itself, for every data engine. Written by scripts/unimplemented-rpcs.py from the generated
// protocol; regenerate it with the served methods when one is implemented.

public import GRPCCore
public import InstanceManagerAPI
public import SwiftProtobuf

extension ProxyEngineService {
    public func volumeExpand(request: Imrpc_EngineVolumeExpandRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func volumeFrontendStart(request: Imrpc_EngineVolumeFrontendStartRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func volumeFrontendShutdown(request: Imrpc_ProxyEngineRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func volumeUnmapMarkSnapChainRemovedSet(request: Imrpc_EngineVolumeUnmapMarkSnapChainRemovedSetRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func volumeSnapshotMaxCountSet(request: Imrpc_EngineVolumeSnapshotMaxCountSetRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func volumeSnapshotMaxSizeSet(request: Imrpc_EngineVolumeSnapshotMaxSizeSetRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func volumeSnapshot(request: Imrpc_EngineSnapshotRequest, context: ServerContext) async throws -> Imrpc_EngineSnapshotProxyResponse {
        throw unimplementedRPC(context)
    }

    public func snapshotList(request: Imrpc_ProxyEngineRequest, context: ServerContext) async throws -> Imrpc_EngineSnapshotListProxyResponse {
        throw unimplementedRPC(context)
    }

    public func snapshotRevert(request: Imrpc_EngineSnapshotRevertRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func snapshotPurge(request: Imrpc_EngineSnapshotPurgeRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func snapshotPurgeStatus(request: Imrpc_ProxyEngineRequest, context: ServerContext) async throws -> Imrpc_EngineSnapshotPurgeStatusProxyResponse {
        throw unimplementedRPC(context)
    }

    public func snapshotClone(request: Imrpc_EngineSnapshotCloneRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func snapshotCloneStatus(request: Imrpc_ProxyEngineRequest, context: ServerContext) async throws -> Imrpc_EngineSnapshotCloneStatusProxyResponse {
        throw unimplementedRPC(context)
    }

    public func snapshotRemove(request: Imrpc_EngineSnapshotRemoveRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func snapshotHash(request: Imrpc_EngineSnapshotHashRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func snapshotHashStatus(request: Imrpc_EngineSnapshotHashStatusRequest, context: ServerContext) async throws -> Imrpc_EngineSnapshotHashStatusProxyResponse {
        throw unimplementedRPC(context)
    }

    public func snapshotBackup(request: Imrpc_EngineSnapshotBackupRequest, context: ServerContext) async throws -> Imrpc_EngineSnapshotBackupProxyResponse {
        throw unimplementedRPC(context)
    }

    public func snapshotBackupStatus(request: Imrpc_EngineSnapshotBackupStatusRequest, context: ServerContext) async throws -> Imrpc_EngineSnapshotBackupStatusProxyResponse {
        throw unimplementedRPC(context)
    }

    public func backupRestore(request: Imrpc_EngineBackupRestoreRequest, context: ServerContext) async throws -> Imrpc_EngineBackupRestoreProxyResponse {
        throw unimplementedRPC(context)
    }

    public func backupRestoreStatus(request: Imrpc_ProxyEngineRequest, context: ServerContext) async throws -> Imrpc_EngineBackupRestoreStatusProxyResponse {
        throw unimplementedRPC(context)
    }

    public func backupRestoreFinish(request: Imrpc_EngineBackupRestoreFinishRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func cleanupBackupMountPoints(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaRebuildingStatus(request: Imrpc_ProxyEngineRequest, context: ServerContext) async throws -> Imrpc_EngineReplicaRebuildStatusProxyResponse {
        throw unimplementedRPC(context)
    }

    public func replicaRebuildingQosSet(request: Imrpc_EngineReplicaRebuildingQosSetRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaVerifyRebuild(request: Imrpc_EngineReplicaVerifyRebuildRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaModeUpdate(request: Imrpc_EngineReplicaModeUpdateRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaRebuildConcurrentSyncLimitSet(request: Imrpc_EngineReplicaRebuildConcurrentSyncLimitSetRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaRebuildConcurrentSyncLimitGet(request: Imrpc_ProxyEngineRequest, context: ServerContext) async throws -> Imrpc_EngineReplicaRebuildConcurrentSyncLimitGetResponse {
        throw unimplementedRPC(context)
    }

    public func spdkBackingImageCreate(request: Imrpc_SPDKBackingImageCreateRequest, context: ServerContext) async throws -> Imrpc_SPDKBackingImageResponse {
        throw unimplementedRPC(context)
    }

    public func spdkBackingImageDelete(request: Imrpc_SPDKBackingImageDeleteRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func spdkBackingImageGet(request: Imrpc_SPDKBackingImageGetRequest, context: ServerContext) async throws -> Imrpc_SPDKBackingImageResponse {
        throw unimplementedRPC(context)
    }

    public func spdkBackingImageList(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Imrpc_SPDKBackingImageListResponse {
        throw unimplementedRPC(context)
    }

    public func spdkBackingImageWatch(request: Google_Protobuf_Empty, response: RPCWriter<Google_Protobuf_Empty>, context: ServerContext) async throws {
        throw unimplementedRPC(context)
    }

    public func metricsGet(request: Imrpc_ProxyEngineRequest, context: ServerContext) async throws -> Imrpc_EngineMetricsGetProxyResponse {
        throw unimplementedRPC(context)
    }

    public func remountReadOnlyVolume(request: Imrpc_RemountReadOnlyVolumeRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }
}
