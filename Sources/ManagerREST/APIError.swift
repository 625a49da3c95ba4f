// An API call that failed, and its go-rancher error envelope:
// `{"type":"error","status":404,"code":"Not Found","message":…,"detail":…}`.
// Clients match substrings of `message`, so it carries Longhorn's wording where there is one.

public import Hummingbird
public import ManagerModel

public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    public var detail: String

    public init(_ status: HTTPResponse.Status, _ message: String, detail: String = "") {
        self.status = status
        self.message = message
        self.detail = detail
    }

    public var description: String { "\(status.code) \(message)" }

    public static func notFound(_ message: String) -> APIError { APIError(.notFound, message) }
    public static func badRequest(_ message: String) -> APIError { APIError(.badRequest, message) }
    public static func conflict(_ message: String) -> APIError { APIError(.conflict, message) }
    public static func internalError(_ message: String) -> APIError { APIError(.internalServerError, message) }

    /// The answer to a store failure: not found 404, a name taken or a lost race 409, a refused
    /// document 400, the store down 500.
    public init(_ error: ResourceStoreError) {
        switch error {
        case .notFound: self.init(.notFound, error.description)
        case .alreadyExists, .conflict: self.init(.conflict, error.description)
        case .invalid: self.init(.badRequest, error.description)
        case .compacted, .unavailable: self.init(.internalServerError, error.description)
        }
    }

    /// The answer to a setting failure: an unknown setting 404, a refused value 400.
    public init(_ error: SettingError) {
        switch error {
        case .notFound: self.init(.notFound, error.description)
        case .invalidValue: self.init(.badRequest, error.description)
        }
    }
}

/// The error envelope's JSON.
struct APIErrorBody: Encodable {
    var type = "error"
    var status: Int
    var code: String
    var message: String
    var detail: String

    init(_ error: APIError) {
        status = error.status.code
        code = error.status.reasonPhrase
        message = error.message
        detail = error.detail
    }
}
