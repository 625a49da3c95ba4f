// The SPDK service's messages (spdkrpc) from the V2 instance manager's values, field for field.

import InstanceManager
import InstanceManagerAPI

extension Spdkrpc_Lvol {
    init(_ lvol: LvolInfo) {
        self.init()
        name = lvol.name
        uuid = lvol.uuid
        specSize = lvol.specSize
        actualSize = lvol.actualSize
        parent = lvol.parent
        children = lvol.children
        creationTime = lvol.creationTime
        userCreated = lvol.userCreated
        snapshotTimestamp = lvol.snapshotTimestamp
        snapshotChecksum = lvol.snapshotChecksum
    }
}

extension Spdkrpc_Replica {
    init(_ replica: ReplicaInfo) {
        self.init()
        name = replica.name
        lvsName = replica.lvsName
        lvsUuid = replica.lvsUUID
        specSize = replica.specSize
        actualSize = replica.actualSize
        ip = replica.ip
        portStart = replica.portStart
        portEnd = replica.portEnd
        if let head = replica.head { self.head = Spdkrpc_Lvol(head) }
        snapshots = replica.snapshots.mapValues(Spdkrpc_Lvol.init)
        rebuilding = replica.rebuilding
        state = replica.state.rawValue
        errorMsg = replica.errorMsg
        backingImageName = replica.backingImageName
        uuid = replica.uuid
    }
}

extension Spdkrpc_ReplicaMode {
    init(_ mode: ReplicaMode) {
        switch mode {
        case .rw: self = .rw
        case .wo: self = .wo
        case .err: self = .err
        }
    }
}

extension Spdkrpc_Engine {
    init(_ engine: EngineInfo) {
        self.init()
        name = engine.name
        volumeName = engine.volumeName
        specSize = engine.specSize
        actualSize = engine.actualSize
        ip = engine.ip
        port = engine.port
        replicaAddressMap = engine.replicaAddressMap
        replicaModeMap = engine.replicaModeMap.mapValues(Spdkrpc_ReplicaMode.init)
        if let head = engine.head { self.head = Spdkrpc_Lvol(head) }
        snapshots = engine.snapshots.mapValues(Spdkrpc_Lvol.init)
        frontend = engine.frontend
        endpoint = engine.endpoint
        state = engine.state.rawValue
        errorMsg = engine.errorMsg
        targetIp = engine.targetIP
        targetPort = engine.targetPort
        standbyTargetPort = engine.standbyTargetPort
        ublkID = engine.ublkID
        uuid = engine.uuid
        isExpanding = engine.isExpanding
        lastExpansionError = engine.lastExpansionError
        lastExpansionFailedAt = engine.lastExpansionFailedAt
        snapshotMaxCount = engine.snapshotMaxCount
    }
}

extension Spdkrpc_Disk {
    init(_ disk: DiskInfo) {
        self.init()
        id = disk.id
        uuid = disk.uuid
        path = disk.path
        type = disk.type
        totalSize = disk.totalSize
        freeSize = disk.freeSize
        totalBlocks = disk.totalBlocks
        freeBlocks = disk.freeBlocks
        blockSize = disk.blockSize
        clusterSize = disk.clusterSize
        driver = disk.driver
        name = disk.name
        state = disk.state.rawValue
    }
}
