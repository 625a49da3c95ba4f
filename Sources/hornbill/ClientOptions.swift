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

    @Option(help: "A file holding the bearer token the manager's API asks for (default: $HORNBILL_API_TOKEN_FILE).")
    var apiTokenFile: String?

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    func client() throws -> ManagerClient {
        let environment = ProcessInfo.processInfo.environment
        let url = server ?? environment["HORNBILL_SERVER"] ?? ManagerClient.defaultServer
        let token: String?
        if let apiTokenFile {
            token = try readAPIToken(path: apiTokenFile)
        } else if let path = environment["HORNBILL_API_TOKEN_FILE"], !path.isEmpty {
            token = try readAPIToken(path: path, from: "$HORNBILL_API_TOKEN_FILE")
        } else {
            token = nil
        }
        do {
            return try ManagerClient(server: url, token: token)
        } catch {
            throw ValidationError(error.message)
        }
    }
}

/// The one token a token file holds (surrounding whitespace dropped), or a one-line error naming
/// where the path came from (`source`).
func readAPIToken(path: String, from source: String = "--api-token-file") throws -> String {
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
        throw ValidationError("\(source) \(path): cannot read it")
    }
    let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !token.isEmpty, token.count <= 4096, !token.contains(where: \.isNewline) else {
        throw ValidationError("\(source) \(path): want one token of 1-4096 characters")
    }
    return token
}

/// Runs one API call of a command: any failure is one line on stderr and exit status 1.
func runClientCall(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ManagerClientError {
        let hint = error.status == 401 ? " (give it with --api-token-file or $HORNBILL_API_TOKEN_FILE)" : ""
        FileHandle.standardError.write(Data("error: \(error.message)\(hint)\n".utf8))
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
