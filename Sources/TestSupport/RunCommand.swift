public import Foundation

/// Runs a program found on PATH to its exit, blocking the calling thread; its exit status and its
/// output (stdout and stderr together). In async code call it through `offThread`.
public func runCommand(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let result = try runToExit(
        URL(fileURLWithPath: "/usr/bin/env"), arguments, environment: nil, errorsWithOutput: true)
    return (result.status, result.output)
}

/// Runs `executable` with `arguments` to its exit, blocking the calling thread; its status, its
/// stdout and its stderr (empty when `errorsWithOutput` puts them in the output).
///
/// The output goes to files, not pipes: a daemon another test starts at the same moment inherits
/// every descriptor open then, and a pipe's write end held by it would keep a read "to the end"
/// waiting for as long as that daemon lives.
public func runToExit(
    _ executable: URL, _ arguments: [String], environment: [String: String]?, errorsWithOutput: Bool
) throws -> (status: Int32, output: String, errors: String) {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("hornbill-run-\(UUID().uuidString)").path
    let paths = [base + ".out", base + ".err"]
    defer { for path in paths { try? FileManager.default.removeItem(atPath: path) } }
    for path in paths where !FileManager.default.createFile(atPath: path, contents: nil) {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
    }
    let output = try FileHandle(forWritingTo: URL(fileURLWithPath: paths[0]))
    let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: paths[1]))
    defer {
        try? output.close()
        try? errors.close()
    }
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    process.standardOutput = output
    process.standardError = errorsWithOutput ? output : errors
    try process.run()
    process.waitUntilExit()
    func text(_ path: String) -> String {
        String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    }
    return (process.terminationStatus, text(paths[0]), text(paths[1]))
}
