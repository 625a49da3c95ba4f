// The kinds resources are stored under (Longhorn's plural resource names, lower camel case), and
// each resource type's kind.

extension ResourceKind {
    public static let settings = ResourceKind(rawValue: "settings")
    public static let nodes = ResourceKind(rawValue: "nodes")
    public static let volumes = ResourceKind(rawValue: "volumes")
    public static let engines = ResourceKind(rawValue: "engines")
    public static let replicas = ResourceKind(rawValue: "replicas")
    public static let instanceManagers = ResourceKind(rawValue: "instanceManagers")
    public static let volumeAttachments = ResourceKind(rawValue: "volumeAttachments")
    public static let orphans = ResourceKind(rawValue: "orphans")
}

extension Setting: StoredResourceType { public static var kind: ResourceKind { .settings } }
extension Node: StoredResourceType { public static var kind: ResourceKind { .nodes } }
extension Volume: StoredResourceType { public static var kind: ResourceKind { .volumes } }
extension Engine: StoredResourceType { public static var kind: ResourceKind { .engines } }
extension Replica: StoredResourceType { public static var kind: ResourceKind { .replicas } }
extension InstanceManager: StoredResourceType { public static var kind: ResourceKind { .instanceManagers } }
extension VolumeAttachment: StoredResourceType { public static var kind: ResourceKind { .volumeAttachments } }
extension Orphan: StoredResourceType { public static var kind: ResourceKind { .orphans } }
