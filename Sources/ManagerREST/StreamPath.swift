// Where a websocket stream is asked for: `/v1/ws/<name>` or `/v1/ws/<period>/<name>`.

struct StreamPath: Equatable {
    var name: String
    var period: Duration

    static let prefix = "/v1/ws/"

    /// The stream a request path asks for; nil for a path outside /v1/ws/, 400 for a period that is
    /// not a duration or a path of more parts.
    static func parse(_ path: String) -> Result<StreamPath, APIError>? {
        let withoutQuery = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard withoutQuery.hasPrefix(prefix) else { return nil }
        let parts = withoutQuery.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            return .success(StreamPath(name: String(parts[0]), period: ManagerRESTLimits.streamPeriodDefault))
        case 2:
            guard let period = StreamPeriod.parse(parts[0]) else {
                return .failure(
                    .badRequest(
                        "invalid stream period \"\(parts[0].prefix(64))\": expected a duration such as 500ms, 1s or 1m30s"
                    ))
            }
            return .success(StreamPath(name: String(parts[1]), period: period))
        default:
            return .failure(.notFound("no stream at \(withoutQuery.prefix(256)): expected /v1/ws/[<period>/]<name>"))
        }
    }
}
