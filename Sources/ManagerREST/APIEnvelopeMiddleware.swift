// Around every /v1 call: the optional bearer token, every failure turned into the error envelope,
// and the `X-API-Schemas` header on every answer.
//
// Without a token any request is served (Longhorn's client always sends `Authorization: Basic Og==`,
// empty user and password). With one, a request must carry `Authorization: Bearer <token>`;
// otherwise 401 in the envelope.

import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

struct APIEnvelopeMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    let bearerToken: String?
    let links: @Sendable (Request) -> APILinks

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let schemasURL = links(request).schemas
        var response: Response
        do {
            try authenticate(request)
            response = try await next(request, context)
        } catch {
            let apiError = Self.apiError(for: error)
            if apiError.status.kind == .serverError {
                context.logger.error("\(request.method) \(request.uri.path) failed: \(error)")
            }
            response = try APIResponse.json(APIErrorBody(apiError), status: apiError.status)
        }
        response.headers[Self.apiSchemasHeader] = schemasURL
        return response
    }

    static let apiSchemasHeader = HTTPField.Name("X-API-Schemas")!

    private func authenticate(_ request: Request) throws(APIError) {
        guard Self.isAuthorized(request.headers[.authorization], token: bearerToken) else {
            throw APIError(.unauthorized, "a valid bearer token is required: Authorization: Bearer <token>")
        }
    }

    /// Whether an `Authorization` header value lets a request in: always without a token, with one
    /// only `Bearer <token>`.
    static func isAuthorized(_ authorization: String?, token: String?) -> Bool {
        guard let token else { return true }
        let given = authorization ?? ""
        let prefix = "Bearer "
        return given.hasPrefix(prefix)
            && constantTimeEqual(Array(given.utf8.dropFirst(prefix.utf8.count)), Array(token.utf8))
    }

    /// Equal byte strings, compared in a time that does not depend on where they differ.
    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }

    private static func apiError(for error: any Error) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as HTTPError where error.status == .notFound:
            return APIError(.notFound, "not found: no such resource or method")
        case let error as HTTPError:
            return APIError(error.status, error.body ?? error.status.reasonPhrase)
        case is NIOTooManyBytesError:
            return APIError(
                .contentTooLarge, "the request body is larger than \(ManagerRESTLimits.requestBodyBytesMax) bytes")
        default: return APIError.internalError("\(error)")
        }
    }
}
