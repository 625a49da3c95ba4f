// The SPDK service's RPCs this instance manager does not serve (snapshots, rebuilding, backups,
// expansion, engine frontends, backing images, …): each answers Unimplemented naming itself.
// Written by scripts/unimplemented-rpcs.py from the generated protocol; regenerate it with the
// served methods when one is implemented.

public import GRPCCore
public import InstanceManagerAPI
public import SwiftProtobuf

/// The status of an RPC this server does not offer: Unimplemented, naming the method.
func unimplementedRPC(_ context: ServerContext) -> RPCError {
    RPCError(
        code: .unimplemented,
        message: "\(context.descriptor.method) is not implemented (\(context.descriptor.service.fullyQualifiedService))")
}

extension SPDKService {
    public func replicaExpand(request: Spdkrpc_ReplicaExpandRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaSnapshotCreate(request: Spdkrpc_SnapshotRequest, context: ServerContext) async throws -> Spdkrpc_Replica {
        throw unimplementedRPC(context)
    }

    public func replicaSnapshotDelete(request: Spdkrpc_SnapshotRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaSnapshotRevert(request: Spdkrpc_SnapshotRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaSnapshotPurge(request: Spdkrpc_SnapshotRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaSnapshotHash(request: Spdkrpc_SnapshotHashRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaSnapshotHashStatus(request: Spdkrpc_SnapshotHashStatusRequest, context: ServerContext) async throws -> Spdkrpc_ReplicaSnapshotHashStatusResponse {
        throw unimplementedRPC(context)
    }

    public func replicaSnapshotHashCancel(request: Spdkrpc_SnapshotHashCancelRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaSnapshotHashLockState(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Spdkrpc_ReplicaSnapshotHashLockStateResponse {
        throw unimplementedRPC(context)
    }

    public func replicaSnapshotRangeHashGet(request: Spdkrpc_ReplicaSnapshotRangeHashGetRequest, context: ServerContext) async throws -> Spdkrpc_ReplicaSnapshotRangeHashGetResponse {
        throw unimplementedRPC(context)
    }

    public func replicaRebuildingSrcStart(request: Spdkrpc_ReplicaRebuildingSrcStartRequest, context: ServerContext) async throws -> Spdkrpc_ReplicaRebuildingSrcStartResponse {
        throw unimplementedRPC(context)
    }

    public func replicaRebuildingSrcFinish(request: Spdkrpc_ReplicaRebuildingSrcFinishRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaRebuildingSrcShallowCopyStart(request: Spdkrpc_ReplicaRebuildingSrcShallowCopyStartRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaRebuildingSrcRangeShallowCopyStart(request: Spdkrpc_ReplicaRebuildingSrcRangeShallowCopyStartRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaRebuildingSrcShallowCopyCheck(request: Spdkrpc_ReplicaRebuildingSrcShallowCopyCheckRequest, context: ServerContext) async throws -> Spdkrpc_ReplicaRebuildingSrcShallowCopyCheckResponse {
        throw unimplementedRPC(context)
    }

    public func replicaRebuildingDstStart(request: Spdkrpc_ReplicaRebuildingDstStartRequest, context: ServerContext) async throws -> Spdkrpc_ReplicaRebuildingDstStartResponse {
        throw unimplementedRPC(context)
    }

    public func replicaRebuildingDstFinish(request: Spdkrpc_ReplicaRebuildingDstFinishRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaRebuildingDstShallowCopyStart(request: Spdkrpc_ReplicaRebuildingDstShallowCopyStartRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaRebuildingDstShallowCopyCheck(request: Spdkrpc_ReplicaRebuildingDstShallowCopyCheckRequest, context: ServerContext) async throws -> Spdkrpc_ReplicaRebuildingDstShallowCopyCheckResponse {
        throw unimplementedRPC(context)
    }

    public func replicaRebuildingDstSnapshotCreate(request: Spdkrpc_SnapshotRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaRebuildingDstSetQosLimit(request: Spdkrpc_ReplicaRebuildingDstSetQosLimitRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaBackupCreate(request: Spdkrpc_BackupCreateRequest, context: ServerContext) async throws -> Spdkrpc_BackupCreateResponse {
        throw unimplementedRPC(context)
    }

    public func replicaBackupStatus(request: Spdkrpc_BackupStatusRequest, context: ServerContext) async throws -> Spdkrpc_BackupStatusResponse {
        throw unimplementedRPC(context)
    }

    public func replicaBackupRestore(request: Spdkrpc_ReplicaBackupRestoreRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaRestoreStatus(request: Spdkrpc_ReplicaRestoreStatusRequest, context: ServerContext) async throws -> Spdkrpc_ReplicaRestoreStatusResponse {
        throw unimplementedRPC(context)
    }

    public func replicaSnapshotCloneDstStart(request: Spdkrpc_ReplicaSnapshotCloneDstStartRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaSnapshotCloneDstStatusCheck(request: Spdkrpc_ReplicaSnapshotCloneDstStatusCheckRequest, context: ServerContext) async throws -> Spdkrpc_ReplicaSnapshotCloneDstStatusCheckResponse {
        throw unimplementedRPC(context)
    }

    public func replicaSnapshotCloneSrcStart(request: Spdkrpc_ReplicaSnapshotCloneSrcStartRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func replicaSnapshotCloneSrcStatusCheck(request: Spdkrpc_ReplicaSnapshotCloneSrcStatusCheckRequest, context: ServerContext) async throws -> Spdkrpc_ReplicaSnapshotCloneSrcStatusCheckResponse {
        throw unimplementedRPC(context)
    }

    public func replicaSnapshotCloneSrcFinish(request: Spdkrpc_ReplicaSnapshotCloneSrcFinishRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineSuspend(request: Spdkrpc_EngineSuspendRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineResume(request: Spdkrpc_EngineResumeRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineSnapshotMaxCountSet(request: Spdkrpc_EngineSnapshotMaxCountSetRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineExpand(request: Spdkrpc_EngineExpandRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineExpandPrecheck(request: Spdkrpc_EngineExpandPrecheckRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineDeleteTarget(request: Spdkrpc_EngineDeleteTargetRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineSetTargetListenerANAState(request: Spdkrpc_EngineSetTargetListenerANAStateRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineSnapshotCreate(request: Spdkrpc_SnapshotRequest, context: ServerContext) async throws -> Spdkrpc_SnapshotResponse {
        throw unimplementedRPC(context)
    }

    public func engineSnapshotDelete(request: Spdkrpc_SnapshotRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineSnapshotRevert(request: Spdkrpc_SnapshotRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineSnapshotPurge(request: Spdkrpc_SnapshotRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineSnapshotHash(request: Spdkrpc_SnapshotHashRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineSnapshotHashStatus(request: Spdkrpc_SnapshotHashStatusRequest, context: ServerContext) async throws -> Spdkrpc_EngineSnapshotHashStatusResponse {
        throw unimplementedRPC(context)
    }

    public func engineSnapshotClone(request: Spdkrpc_EngineSnapshotCloneRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineBackupCreate(request: Spdkrpc_BackupCreateRequest, context: ServerContext) async throws -> Spdkrpc_BackupCreateResponse {
        throw unimplementedRPC(context)
    }

    public func engineBackupStatus(request: Spdkrpc_BackupStatusRequest, context: ServerContext) async throws -> Spdkrpc_BackupStatusResponse {
        throw unimplementedRPC(context)
    }

    public func engineBackupRestore(request: Spdkrpc_EngineBackupRestoreRequest, context: ServerContext) async throws -> Spdkrpc_EngineBackupRestoreResponse {
        throw unimplementedRPC(context)
    }

    public func engineBackupRestoreFinish(request: Spdkrpc_EngineBackupRestoreFinishRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineRestoreStatus(request: Spdkrpc_RestoreStatusRequest, context: ServerContext) async throws -> Spdkrpc_RestoreStatusResponse {
        throw unimplementedRPC(context)
    }

    public func engineFrontendCreate(request: Spdkrpc_EngineFrontendCreateRequest, context: ServerContext) async throws -> Spdkrpc_EngineFrontend {
        throw unimplementedRPC(context)
    }

    public func engineFrontendDelete(request: Spdkrpc_EngineFrontendDeleteRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineFrontendGet(request: Spdkrpc_EngineFrontendGetRequest, context: ServerContext) async throws -> Spdkrpc_EngineFrontend {
        throw unimplementedRPC(context)
    }

    public func engineFrontendList(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Spdkrpc_EngineFrontendListResponse {
        throw unimplementedRPC(context)
    }

    public func engineFrontendWatch(request: Google_Protobuf_Empty, response: RPCWriter<Google_Protobuf_Empty>, context: ServerContext) async throws {
        throw unimplementedRPC(context)
    }

    public func engineFrontendSuspend(request: Spdkrpc_EngineFrontendSuspendRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineFrontendResume(request: Spdkrpc_EngineFrontendResumeRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineFrontendExpand(request: Spdkrpc_EngineFrontendExpandRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineFrontendSnapshotCreate(request: Spdkrpc_SnapshotRequest, context: ServerContext) async throws -> Spdkrpc_SnapshotResponse {
        throw unimplementedRPC(context)
    }

    public func engineFrontendSnapshotDelete(request: Spdkrpc_SnapshotRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineFrontendSnapshotRevert(request: Spdkrpc_SnapshotRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineFrontendSnapshotPurge(request: Spdkrpc_SnapshotRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineFrontendReplicaAdd(request: Spdkrpc_EngineFrontendReplicaAddRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func engineFrontendSwitchOver(request: Spdkrpc_EngineFrontendSwitchOverRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func backingImageCreate(request: Spdkrpc_BackingImageCreateRequest, context: ServerContext) async throws -> Spdkrpc_BackingImage {
        throw unimplementedRPC(context)
    }

    public func backingImageDelete(request: Spdkrpc_BackingImageDeleteRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func backingImageGet(request: Spdkrpc_BackingImageGetRequest, context: ServerContext) async throws -> Spdkrpc_BackingImage {
        throw unimplementedRPC(context)
    }

    public func backingImageList(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Spdkrpc_BackingImageListResponse {
        throw unimplementedRPC(context)
    }

    public func backingImageWatch(request: Google_Protobuf_Empty, response: RPCWriter<Google_Protobuf_Empty>, context: ServerContext) async throws {
        throw unimplementedRPC(context)
    }

    public func backingImageExpose(request: Spdkrpc_BackingImageGetRequest, context: ServerContext) async throws -> Spdkrpc_BackingImageExposeResponse {
        throw unimplementedRPC(context)
    }

    public func backingImageUnexpose(request: Spdkrpc_BackingImageGetRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw unimplementedRPC(context)
    }

    public func diskHealthGet(request: Spdkrpc_DiskGetRequest, context: ServerContext) async throws -> Spdkrpc_DiskHealthGetResponse {
        throw unimplementedRPC(context)
    }

    public func metricsGet(request: Spdkrpc_MetricsRequest, context: ServerContext) async throws -> Spdkrpc_Metrics {
        throw unimplementedRPC(context)
    }
}
