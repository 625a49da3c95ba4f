// The manager's support bundles (Longhorn's SupportBundle resource): a zip of the store's
// resources and the node's logs (SupportBundleContents) made on request, for download.
//
// One bundle at a time: asking for one while another is being made is refused (409); asking once
// it is done replaces it (its file is removed). A bundle is `Generating` (with its progress), then
// `ReadyForDownload` with its file's name and size, or `Error` with why. Bundles live in memory and
// their files under `directory`; files left there by an earlier run are removed at start.

public import Foundation
public import ManagerModel

public actor SupportBundles {
    public struct Configuration: Sendable {
        /// Where bundle files are written (created if missing).
        public var directory: String
        /// The node whose manager makes the bundles.
        public var nodeName: String
        /// The directory of the node's `*.log` files, if it has one.
        public var logDirectory: String?

        public init(directory: String, nodeName: String, logDirectory: String? = nil) {
            self.directory = directory
            self.nodeName = nodeName
            self.logDirectory = logDirectory
        }
    }

    /// A bundle's state: `Generating`, `ReadyForDownload` or `Error`.
    public enum State: String, Sendable {
        case generating = "Generating"
        case readyForDownload = "ReadyForDownload"
        case error = "Error"
    }

    public struct Bundle: Sendable, Equatable {
        public var name: String
        public var nodeID: String
        public var state: State
        public var progressPercentage: Int
        public var errorMessage: String
        public var fileName: String
        public var fileSize: Int
        public var issueURL: String
        public var description: String
        public var created: String
    }

    let store: any ResourceStore
    let configuration: Configuration
    private var current: Bundle?

    public init(store: any ResourceStore, configuration: Configuration) {
        self.store = store
        self.configuration = configuration
        let directory = configuration.directory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasSuffix(".zip")
        {
            try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")
        }
    }

    /// Every bundle (none or one).
    public func list() -> [Bundle] { current.map { [$0] } ?? [] }

    public func bundle(named name: String) -> Bundle? { current?.name == name ? current : nil }

    /// Starts a new bundle, replacing a finished one; refused while one is being made.
    public func start(issueURL: String, description: String, now: Date = Date()) throws(APIError) -> Bundle {
        if let current, current.state == .generating {
            throw .conflict("support bundle \(current.name) is still being generated; try again when it is done")
        }
        if let current { removeFile(current) }
        let stamp = Self.stamp(now)
        let bundle = Bundle(
            name: "support-bundle-\(stamp.lowercased())", nodeID: configuration.nodeName, state: .generating,
            progressPercentage: 0, errorMessage: "", fileName: "supportbundle_\(configuration.nodeName)_\(stamp).zip",
            fileSize: 0, issueURL: issueURL, description: description, created: KubernetesTime.format(now))
        current = bundle
        Task { await self.generate(bundle, now: now) }
        return bundle
    }

    /// Removes a bundle and its file; a bundle being made cannot be removed.
    public func delete(_ name: String) throws(APIError) {
        guard let current, current.name == name else { throw .notFound("support bundle \(name) not found") }
        guard current.state != .generating else {
            throw .conflict("support bundle \(name) is still being generated; delete it when it is done")
        }
        removeFile(current)
        self.current = nil
    }

    /// The file of a bundle ready for download, read here so that no new bundle removes it meanwhile.
    public func download(_ name: String) throws(APIError) -> (data: Data, fileName: String) {
        guard let current, current.name == name else { throw .notFound("support bundle \(name) not found") }
        guard current.state == .readyForDownload else {
            throw .conflict("support bundle \(name) is not ready for download: it is \(current.state.rawValue)")
        }
        guard let data = FileManager.default.contents(atPath: path(of: current)) else {
            throw .internalError("support bundle \(name): its file \(path(of: current)) cannot be read")
        }
        return (data, current.fileName)
    }

    private func generate(_ bundle: Bundle, now: Date) async {
        let root = String(bundle.fileName.dropLast(".zip".count))
        do {
            try FileManager.default.createDirectory(atPath: configuration.directory, withIntermediateDirectories: true)
            var contents = SupportBundleContents()
            try await contents.addResources(from: store, root: root)
            progress(bundle.name, 40)
            if let logDirectory = configuration.logDirectory {
                try contents.addLogs(in: logDirectory, root: root)
            }
            progress(bundle.name, 70)
            try contents.addManifest(
                root: root, node: bundle.nodeID, created: bundle.created, issueURL: bundle.issueURL,
                description: bundle.description)
            var archive = try ZipArchiveWriter(path: path(of: bundle), modified: now)
            for file in contents.files { try archive.add(name: file.path, data: file.data) }
            let size = try archive.finish()
            finish(bundle.name) {
                $0.state = .readyForDownload
                $0.progressPercentage = 100
                $0.fileSize = size
            }
        } catch {
            try? FileManager.default.removeItem(atPath: path(of: bundle))
            finish(bundle.name) {
                $0.state = .error
                $0.errorMessage = "\(error)"
            }
        }
    }

    private func progress(_ name: String, _ percentage: Int) {
        finish(name) { $0.progressPercentage = percentage }
    }

    private func finish(_ name: String, _ change: (inout Bundle) -> Void) {
        guard var bundle = current, bundle.name == name else { return }
        change(&bundle)
        current = bundle
    }

    private func path(of bundle: Bundle) -> String { "\(configuration.directory)/\(bundle.fileName)" }

    private func removeFile(_ bundle: Bundle) { try? FileManager.default.removeItem(atPath: path(of: bundle)) }

    /// `2026-12-07T10-30-00Z`: a time that can be part of a file name.
    private static func stamp(_ date: Date) -> String {
        KubernetesTime.format(date).replacingOccurrences(of: ":", with: "-")
    }
}
