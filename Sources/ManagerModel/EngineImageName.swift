// Longhorn's engine image names: `ei-<the first 8 hex digits of SHA-512(image)>`.

/// The name of the engine image resource of an image.
public enum EngineImageName {
    public static func of(image: String) -> String {
        "ei-" + SHA512.hexDigest(image).prefix(8)
    }
}
