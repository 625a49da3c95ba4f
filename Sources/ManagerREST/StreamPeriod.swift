// The period of a websocket stream: `/v1/ws/<period>/<name>` with a Go duration (`500ms`, `1s`,
// `1m30s`, `0`), the shortest time between two messages. As Longhorn's manager does, a negative
// period counts as 0 (every change is sent) and one over `streamPeriodMax` as that maximum; a
// path without one uses `streamPeriodDefault`.

enum StreamPeriod {
    /// The period `text` names, clamped to 0…`streamPeriodMax`; nil if it is not a duration.
    static func parse(_ text: Substring) -> Duration? {
        guard !text.isEmpty, text.utf8.count <= ManagerRESTLimits.streamPeriodTextBytesMax else { return nil }
        var rest = text
        var negative = false
        if let sign = rest.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return .zero }
        var nanoseconds = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            rest = rest.dropFirst(unit.count)
            guard number.contains(where: \.isNumber), number.filter({ $0 == "." }).count <= 1,
                let value = Double(number.hasPrefix(".") ? "0" + number : String(number)),
                let scale = unitNanoseconds[String(unit)]
            else { return nil }
            nanoseconds += value * scale
        }
        if negative { return .zero }
        let maximum = ManagerRESTLimits.streamPeriodMax
        guard nanoseconds < Double(maximum.components.seconds) * 1e9 else { return maximum }
        return .nanoseconds(Int64(nanoseconds))
    }

    private static let unitNanoseconds: [String: Double] = [
        "ns": 1, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9,
    ]
}
