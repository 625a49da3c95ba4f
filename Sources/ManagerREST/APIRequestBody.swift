// Reading a request's JSON body. Clients send JSON without a Content-Type header and, for objects
// they got from the server, with every field the server sent: the body is decoded whatever its
// Content-Type, unknown fields are ignored, and a body larger than the limit is refused before it
// is buffered.

import Foundation
public import Hummingbird
import NIOCore

public enum APIRequestBody {
    /// The request's body decoded as `T`: 400 for an empty or malformed body (saying why), 413 for
    /// one over `ManagerRESTLimits.requestBodyBytesMax`.
    public static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws(APIError) -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: ManagerRESTLimits.requestBodyBytesMax)
        } catch is NIOTooManyBytesError {
            throw APIError(
                .contentTooLarge,
                "the request body is larger than \(ManagerRESTLimits.requestBodyBytesMax) bytes")
        } catch {
            throw APIError.badRequest("the request body could not be read: \(error)")
        }
        guard buffer.readableBytes > 0 else {
            throw APIError.badRequest("the request body is empty: expected a JSON object")
        }
        let data = Data(buffer.readableBytesView)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw APIError.badRequest("the request body is not valid: \(reason(error, data: data))")
        } catch {
            throw APIError.badRequest("the request body is not valid: \(error)")
        }
    }

    private static func reason(_ error: DecodingError, data: Data) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            return keys.isEmpty ? "the body" : "field \(keys.joined(separator: "."))"
        }
        switch error {
        case .dataCorrupted(let context):
            // With a path the JSON parsed and a field's value was refused (an unknown enum
            // spelling, a number that does not fit); without one the bytes are not JSON.
            guard context.codingPath.isEmpty else { return "\(path(context)): \(context.debugDescription)" }
            // The decoder says "not valid JSON" also for valid JSON holding a number its field
            // cannot take (2.5 or 1e100 for an integer), without naming the field.
            if (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil {
                return "a number does not fit its field (a whole number within the field's range is expected)"
            }
            let underlying = (context.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return "malformed JSON: \(underlying ?? context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "\(path(context)) has no member \(key.stringValue)"
        case .typeMismatch(let expected, let context):
            return "\(path(context)) is not of type \(expected)"
        case .valueNotFound(let expected, let context):
            return "\(path(context)) is null, expected \(expected)"
        @unknown default:
            return "\(error)"
        }
    }
}
