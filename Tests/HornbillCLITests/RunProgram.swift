// Programs the CLI tests run to their end: real clients found on PATH (qemu-io, fio, nbdinfo…)
// and SPDK's rpc.py.

import Foundation

/// Runs a program found on PATH to its end; returns its status and its output, with its error
/// text when `includingErrors` (else that is discarded). With `timeoutSeconds` it is terminated
/// once that has passed.
func runProgram(
    _ arguments: [String], includingErrors: Bool = true, timeoutSeconds: Double? = nil
) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = includingErrors ? output : FileHandle.nullDevice
    try process.run()
    let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
    if let timeoutSeconds { DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds, execute: watchdog) }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    watchdog.cancel()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Runs SPDK's rpc.py (`python3 -m spdk.spdk_rpc -s SOCKET arguments…`); returns its exit status
/// and stdout, where rpc.py also prints an error response (`"code": …, "message": …`), with its
/// error text when `includingErrors`.
func rpcPy(
    _ socket: String, _ arguments: [String], includingErrors: Bool = false
) throws -> (status: Int32, output: String) {
    try runProgram(["python3", "-m", "spdk.spdk_rpc", "-s", socket] + arguments, includingErrors: includingErrors)
}
