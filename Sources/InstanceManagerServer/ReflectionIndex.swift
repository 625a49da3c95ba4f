// What server reflection answers from: the instance manager's FileDescriptorSet (every .proto in
// proto/ with its imports), indexed by file name, by fully qualified symbol, and by extension.
//
// Symbols are what protoc's reflection clients ask for: packages' services, their methods,
// messages (nested too), their fields, enums, their values, and extensions, each by its full name
// without a leading dot. A file is answered together with every file it imports, directly or not,
// so a client can build it without asking again.

public import Foundation
import InstanceManagerAPI
import SwiftProtobuf

public struct ReflectionIndex: Sendable {
    /// Each file's serialized FileDescriptorProto, by file name.
    private var serializedFiles: [String: Data] = [:]
    /// Each file's direct imports, by file name.
    private var dependencies: [String: [String]] = [:]
    /// The file that declares each symbol.
    private var symbolFiles: [String: String] = [:]
    /// Message full name -> extension number -> the file declaring that extension.
    private var extensionFiles: [String: [Int32: String]] = [:]
    /// Every message type's full name.
    private var messageTypes: Set<String> = []

    /// The error thrown for a descriptor set that does not decode or is inconsistent.
    public struct InvalidDescriptorSet: Error, CustomStringConvertible {
        public var description: String
    }

    /// The index of the instance manager's own descriptor set.
    public static func instanceManager() throws -> ReflectionIndex {
        guard let bytes = Data(base64Encoded: instanceManagerFileDescriptorSetBase64, options: .ignoreUnknownCharacters)
        else {
            throw InvalidDescriptorSet(description: "the embedded descriptor set is not valid base64")
        }
        return try ReflectionIndex(serializedFileDescriptorSet: bytes)
    }

    /// Indexes a serialized google.protobuf.FileDescriptorSet.
    public init(serializedFileDescriptorSet bytes: Data) throws {
        let set: Google_Protobuf_FileDescriptorSet
        do {
            set = try Google_Protobuf_FileDescriptorSet(serializedBytes: bytes)
        } catch {
            throw InvalidDescriptorSet(description: "the descriptor set does not decode: \(error)")
        }
        for file in set.file {
            guard serializedFiles[file.name] == nil else {
                throw InvalidDescriptorSet(description: "file \(file.name) appears twice")
            }
            serializedFiles[file.name] = try file.serializedBytes()
            dependencies[file.name] = file.dependency
            index(file)
        }
        for (name, imports) in dependencies {
            for dependency in imports where serializedFiles[dependency] == nil {
                throw InvalidDescriptorSet(description: "\(name) imports \(dependency), which is missing")
            }
        }
    }

    /// The file named `name` and every file it imports, each as a serialized FileDescriptorProto,
    /// the named file first; nil if no file has that name.
    public func fileWithDependencies(named name: String) -> [Data]? {
        guard serializedFiles[name] != nil else { return nil }
        var order: [String] = []
        var seen: Set<String> = []
        var pending = [name]
        while let next = pending.popLast() {
            guard seen.insert(next).inserted else { continue }
            order.append(next)
            pending.append(contentsOf: (dependencies[next] ?? []).reversed())
        }
        return order.compactMap { serializedFiles[$0] }
    }

    /// The name of the file declaring `symbol` (a full name, with or without a leading dot).
    public func fileName(containingSymbol symbol: String) -> String? {
        symbolFiles[Self.withoutLeadingDot(symbol)]
    }

    /// The name of the file declaring extension `number` of message `type`.
    public func fileName(containingExtension number: Int32, of type: String) -> String? {
        extensionFiles[Self.withoutLeadingDot(type)]?[number]
    }

    /// The extension numbers declared for message `type`, ascending; nil if no message has that
    /// name.
    public func extensionNumbers(of type: String) -> [Int32]? {
        let name = Self.withoutLeadingDot(type)
        guard messageTypes.contains(name) else { return nil }
        return (extensionFiles[name] ?? [:]).keys.sorted()
    }

    private static func withoutLeadingDot(_ name: String) -> String {
        name.hasPrefix(".") ? String(name.dropFirst()) : name
    }

    private static func qualified(_ scope: String, _ name: String) -> String {
        scope.isEmpty ? name : "\(scope).\(name)"
    }

    private mutating func index(_ file: Google_Protobuf_FileDescriptorProto) {
        let package = file.package
        for service in file.service {
            let serviceName = Self.qualified(package, service.name)
            symbolFiles[serviceName] = file.name
            for method in service.method {
                symbolFiles["\(serviceName).\(method.name)"] = file.name
            }
        }
        for message in file.messageType {
            index(message, scope: package, file: file.name)
        }
        for enumeration in file.enumType {
            index(enumeration, scope: package, file: file.name)
        }
        for field in file.extension {
            indexExtension(field, scope: package, file: file.name)
        }
    }

    private mutating func index(_ message: Google_Protobuf_DescriptorProto, scope: String, file: String) {
        let name = Self.qualified(scope, message.name)
        symbolFiles[name] = file
        messageTypes.insert(name)
        for field in message.field {
            symbolFiles["\(name).\(field.name)"] = file
        }
        for nested in message.nestedType {
            index(nested, scope: name, file: file)
        }
        for enumeration in message.enumType {
            index(enumeration, scope: name, file: file)
        }
        for field in message.extension {
            indexExtension(field, scope: name, file: file)
        }
    }

    private mutating func index(_ enumeration: Google_Protobuf_EnumDescriptorProto, scope: String, file: String) {
        let name = Self.qualified(scope, enumeration.name)
        symbolFiles[name] = file
        // Enum values are scoped like the enum itself (C++ scoping), not inside it.
        for value in enumeration.value {
            symbolFiles[Self.qualified(scope, value.name)] = file
        }
    }

    private mutating func indexExtension(_ field: Google_Protobuf_FieldDescriptorProto, scope: String, file: String) {
        symbolFiles[Self.qualified(scope, field.name)] = file
        extensionFiles[Self.withoutLeadingDot(field.extendee), default: [:]][field.number] = file
    }
}
