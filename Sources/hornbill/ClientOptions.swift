import ArgumentParser
import Foundation
import Glibc
import ManagerClient

/// The options every command of the REST API's command line takes.
struct ClientOptions: ParsableArguments {
    @Option(help: "The manager's API (default: $HORNBILL_SERVER, else \(ManagerClient.defaultServer)).")
    var server: String?

    @Option(help: "Output format: table or json.")
    var output: OutputFormat = .table

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    func client() throws -> ManagerClient {
        let url = server ?? ProcessInfo.processInfo.environment["HORNBILL_SERVER"] ?? ManagerClient.defaultServer
        do {
            return try ManagerClient(server: url)
        } catch {
            throw ValidationError(error.message)
        }
    }
}

/// Runs one API call of a command: any failure is one line on stderr and exit status 1.
func runClientCall(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ManagerClientError {
        FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
        throw ExitCode.failure
    }
}

/// Decodes an API answer, or fails with one sentence.
func decodeAnswer<Value: Decodable>(_ type: Value.Type, _ data: Data, what: String) throws -> Value {
    do {
        return try JSONDecoder().decode(type, from: data)
    } catch {
        throw ManagerClientError("the manager's answer is not a \(what): \(error)")
    }
}

/// Writes an API answer as indented JSON with sorted keys.
func printJSON(_ data: Data) throws {
    do {
        let object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        let pretty = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        FileHandle.standardOutput.write(pretty + Data("\n".utf8))
    } catch {
        throw ManagerClientError("the manager's answer is not JSON: \(error)")
    }
}

/// A path segment with everything but unreserved characters percent-encoded.
func pathSegment(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
}
