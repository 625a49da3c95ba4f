// A client of the manager's REST API (Longhorn's /v1): requests with JSON bodies, answers as JSON
// bytes, and every failure as one sentence: the API's own error message when it sent one, else
// what went wrong on the way (no answer, not JSON, a status without a message).

public import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A failed call: `message` is fit to show as is.
public struct ManagerClientError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// The HTTP status, when the API answered.
    public var status: Int?
    public init(_ message: String, status: Int? = nil) {
        self.message = message
        self.status = status
    }
    public var description: String { message }
}

public struct ManagerClient: Sendable {
    /// The API's base, e.g. http://127.0.0.1:9500 (paths are appended: "/v1/settings").
    public var server: URL
    /// Sent as `Authorization: Bearer <token>` when set.
    public var token: String?
    /// How long one request may take.
    public var timeout: TimeInterval

    public static let defaultServer = "http://127.0.0.1:9500"

    /// A client of `server` ("http://host:port"); a URL that is not http(s) with a host is refused.
    public init(server: String, token: String? = nil, timeout: TimeInterval = 10) throws(ManagerClientError) {
        let trimmed = server.hasSuffix("/") ? String(server.dropLast()) : server
        guard let url = URL(string: trimmed), let scheme = url.scheme, ["http", "https"].contains(scheme),
            url.host != nil
        else {
            throw ManagerClientError("the server \(server) is not an http:// or https:// URL with a host")
        }
        self.server = url
        self.token = token
        self.timeout = timeout
    }

    public func get(_ path: String) async throws(ManagerClientError) -> Data {
        try await send("GET", path, body: nil)
    }

    public func put(_ path: String, body: Data) async throws(ManagerClientError) -> Data {
        try await send("PUT", path, body: body)
    }

    public func delete(_ path: String) async throws(ManagerClientError) -> Data {
        try await send("DELETE", path, body: nil)
    }

    public func post(_ path: String, body: Data) async throws(ManagerClientError) -> Data {
        try await send("POST", path, body: body)
    }

    /// Sends a request and answers the body of a 2xx answer.
    public func send(_ method: String, _ path: String, body: Data?) async throws(ManagerClientError) -> Data {
        guard let url = URL(string: server.absoluteString + path) else {
            throw ManagerClientError("\(path) does not make a URL with \(server.absoluteString)")
        }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await Self.load(request)
        } catch {
            throw ManagerClientError(
                "cannot reach the manager at \(server.absoluteString): \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else {
            throw ManagerClientError("the manager at \(server.absoluteString) did not answer over HTTP")
        }
        guard (200..<300).contains(http.statusCode) else {
            throw Self.failure(status: http.statusCode, body: data, method: method, path: path)
        }
        return data
    }

    /// One request through URLSession's completion-handler API. Its async `data(for:)` is not
    /// used: on Linux, cancelling the calling task while an answer arrives can deadlock or resume
    /// its continuation twice (a crash). A cancelled caller here waits for the answer or the
    /// request's timeout instead.
    private static func load(_ request: URLRequest) async throws -> (Data, URLResponse) {
        try await withCheckedThrowingContinuation { continuation in
            URLSession.shared.dataTask(with: request) { data, response, error in
                if let error {
                    continuation.resume(throwing: error)
                } else if let response {
                    continuation.resume(returning: (data ?? Data(), response))
                } else {
                    continuation.resume(throwing: URLError(.badServerResponse))
                }
            }.resume()
        }
    }

    /// The API's error message (`{"type":"error","message":…}`), else the status.
    static func failure(status: Int, body: Data, method: String, path: String) -> ManagerClientError {
        if let error = try? JSONDecoder().decode(APIErrorBody.self, from: body), let message = error.message,
            !message.isEmpty
        {
            return ManagerClientError(message, status: status)
        }
        let reason = HTTPURLResponse.localizedString(forStatusCode: status)
        return ManagerClientError("\(method) \(path): HTTP \(status) \(reason)", status: status)
    }

    private struct APIErrorBody: Decodable {
        var message: String?
    }
}
