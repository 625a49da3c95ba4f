// Server reflection (grpc.reflection.v1 and v1alpha) over a ReflectionIndex: each request on the
// stream gets one response, in order. list_services names the services one server carries; the
// file requests answer from the whole descriptor set. A request the index has no answer for gets
// an error response (NOT_FOUND, or INVALID_ARGUMENT for a request naming nothing) and the stream
// goes on.
//
// The v1alpha messages have the same fields and numbers as v1's, so v1alpha requests are handled
// by re-decoding them as v1 messages.

import Foundation
public import GRPCCore
public import InstanceManagerAPI
import SwiftProtobuf

/// The answers both reflection versions give, in v1 messages.
public struct ReflectionResponder: Sendable {
    public let index: ReflectionIndex
    /// The full names of the services the server carries, in the order list_services gives them.
    public let serviceNames: [String]

    public init(index: ReflectionIndex, serviceNames: [String]) {
        self.index = index
        self.serviceNames = serviceNames
    }

    public func respond(
        to request: Grpc_Reflection_V1_ServerReflectionRequest
    ) -> Grpc_Reflection_V1_ServerReflectionResponse {
        var response = Grpc_Reflection_V1_ServerReflectionResponse()
        response.validHost = request.host
        response.originalRequest = request
        response.messageResponse = answer(request.messageRequest)
        return response
    }

    private typealias Answer = Grpc_Reflection_V1_ServerReflectionResponse.OneOf_MessageResponse

    private func answer(_ request: Grpc_Reflection_V1_ServerReflectionRequest.OneOf_MessageRequest?) -> Answer {
        switch request {
        case .listServices:
            var list = Grpc_Reflection_V1_ListServiceResponse()
            list.service = serviceNames.map { name in
                var service = Grpc_Reflection_V1_ServiceResponse()
                service.name = name
                return service
            }
            return .listServicesResponse(list)

        case .fileByFilename(let name):
            return files(index.fileWithDependencies(named: name), missing: "file \(name)")

        case .fileContainingSymbol(let symbol):
            let file = index.fileName(containingSymbol: symbol)
            return files(file.flatMap(index.fileWithDependencies(named:)), missing: "symbol \(symbol)")

        case .fileContainingExtension(let request):
            let file = index.fileName(containingExtension: request.extensionNumber, of: request.containingType)
            return files(
                file.flatMap(index.fileWithDependencies(named:)),
                missing: "extension \(request.extensionNumber) of \(request.containingType)"
            )

        case .allExtensionNumbersOfType(let type):
            guard let numbers = index.extensionNumbers(of: type) else {
                return error(.notFound, "unknown message type \(type)")
            }
            var extensions = Grpc_Reflection_V1_ExtensionNumberResponse()
            extensions.baseTypeName = type
            extensions.extensionNumber = numbers
            return .allExtensionNumbersResponse(extensions)

        case nil:
            return error(.invalidArgument, "the request names nothing to reflect on")
        }
    }

    private func files(_ files: [Data]?, missing: String) -> Answer {
        guard let files else { return error(.notFound, "unknown \(missing)") }
        var response = Grpc_Reflection_V1_FileDescriptorResponse()
        response.fileDescriptorProto = files
        return .fileDescriptorResponse(response)
    }

    private func error(_ code: Status.Code, _ message: String) -> Answer {
        var error = Grpc_Reflection_V1_ErrorResponse()
        error.errorCode = Int32(code.rawValue)
        error.errorMessage = message
        return .errorResponse(error)
    }
}

/// grpc.reflection.v1.ServerReflection.
public struct ReflectionServiceV1: Grpc_Reflection_V1_ServerReflection.SimpleServiceProtocol {
    public let responder: ReflectionResponder

    public init(responder: ReflectionResponder) {
        self.responder = responder
    }

    public func serverReflectionInfo(
        request: RPCAsyncSequence<Grpc_Reflection_V1_ServerReflectionRequest, any Error>,
        response: RPCWriter<Grpc_Reflection_V1_ServerReflectionResponse>,
        context: ServerContext
    ) async throws {
        for try await message in request {
            try await response.write(responder.respond(to: message))
        }
    }
}

/// grpc.reflection.v1alpha.ServerReflection, which older clients (grpcurl among them) ask first.
public struct ReflectionServiceV1Alpha: Grpc_Reflection_V1alpha_ServerReflection.SimpleServiceProtocol {
    public let responder: ReflectionResponder

    public init(responder: ReflectionResponder) {
        self.responder = responder
    }

    public func serverReflectionInfo(
        request: RPCAsyncSequence<Grpc_Reflection_V1alpha_ServerReflectionRequest, any Error>,
        response: RPCWriter<Grpc_Reflection_V1alpha_ServerReflectionResponse>,
        context: ServerContext
    ) async throws {
        for try await message in request {
            let request = try Grpc_Reflection_V1_ServerReflectionRequest(
                serializedBytes: message.serializedBytes() as [UInt8])
            let answer: [UInt8] = try responder.respond(to: request).serializedBytes()
            try await response.write(Grpc_Reflection_V1alpha_ServerReflectionResponse(serializedBytes: answer))
        }
    }
}
