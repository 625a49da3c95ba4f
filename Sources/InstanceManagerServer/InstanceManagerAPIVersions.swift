public import InstanceManagerAPI

/// The API versions the instance manager reports from its VersionGet RPCs. Longhorn's manager
/// treats an instance manager as compatible when `instanceManager >= 1` and
/// `instanceManagerMin <= 6`, and uses the instance service (rather than the process manager)
/// only when `instanceManager >= 4`.
public enum InstanceManagerAPIVersions {
    /// The instance and process manager services' API version.
    public static let instanceManager: Int64 = 7
    /// The oldest instance manager API version a client may speak.
    public static let instanceManagerMin: Int64 = 1
    /// The proxy service's API version.
    public static let proxy: Int64 = 7
    /// The oldest proxy API version a client may speak.
    public static let proxyMin: Int64 = 1
    /// The disk service's API version.
    public static let diskService: Int64 = 1
    /// The oldest disk service API version a client may speak.
    public static let diskServiceMin: Int64 = 1
}

/// The build a version response names.
public struct InstanceManagerBuild: Sendable, Equatable {
    public var version: String
    public var gitCommit: String
    public var buildDate: String

    public init(version: String, gitCommit: String, buildDate: String) {
        self.version = version
        self.gitCommit = gitCommit
        self.buildDate = buildDate
    }
}

extension VersionResponse {
    /// The answer of the instance and process manager services' VersionGet for `build`.
    public static func instanceManager(_ build: InstanceManagerBuild) -> VersionResponse {
        var response = VersionResponse()
        response.version = build.version
        response.gitCommit = build.gitCommit
        response.buildDate = build.buildDate
        response.instanceManagerApiversion = InstanceManagerAPIVersions.instanceManager
        response.instanceManagerApiminVersion = InstanceManagerAPIVersions.instanceManagerMin
        response.instanceManagerProxyApiversion = InstanceManagerAPIVersions.proxy
        response.instanceManagerProxyApiminVersion = InstanceManagerAPIVersions.proxyMin
        return response
    }
}

extension Imrpc_DiskVersionResponse {
    /// The answer of the disk service's VersionGet for `build`.
    public static func diskService(_ build: InstanceManagerBuild) -> Imrpc_DiskVersionResponse {
        var response = Imrpc_DiskVersionResponse()
        response.version = build.version
        response.gitCommit = build.gitCommit
        response.buildDate = build.buildDate
        response.instanceManagerDiskServiceApiversion = InstanceManagerAPIVersions.diskService
        response.instanceManagerDiskServiceApiminVersion = InstanceManagerAPIVersions.diskServiceMin
        return response
    }
}
