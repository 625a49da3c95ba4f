// Longhorn's instance manager names (longhorn-api.md §1.7): one `aio` instance manager per node,
// image and data engine, named `instance-manager-<the first 32 hex digits of SHA-512(nodeName +
// image + dataEngine)>`.

extension InstanceManager {
    /// The image every instance manager here runs: one build of the whole program.
    public static let defaultImage = "hornbill"

    /// The name of the instance manager of `dataEngine` on `nodeName` running `image`.
    public static func name(nodeName: String, image: String = defaultImage, dataEngine: DataEngine) -> String {
        "instance-manager-" + SHA512.hexDigest(nodeName + image + dataEngine.rawValue).prefix(32)
    }
}
