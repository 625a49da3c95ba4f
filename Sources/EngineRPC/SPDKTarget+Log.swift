// SPDK's log methods (spdk.md §2.1): a log level (what is recorded), a print level (what is
// printed to stderr) and per-component flags. The daemon prints its notices and failed requests
// through these, so they change what an operator sees.

import Foundation
public import JSONRPC
import Synchronization

public final class LogSettings: Sendable {
    public enum Level: Int, Sendable, CaseIterable {
        case disabled = -1, error = 0, warning = 1, notice = 2, info = 3, debug = 4

        var spdkName: String {
            switch self {
            case .disabled: "DISABLED"
            case .error: "ERROR"
            case .warning: "WARNING"
            case .notice: "NOTICE"
            case .info: "INFO"
            case .debug: "DEBUG"
            }
        }

        init?(spdkName: String) {
            // "WARN" is the spelling go-spdk-helper documents; SPDK's own is "WARNING".
            let name = spdkName.uppercased() == "WARN" ? "WARNING" : spdkName.uppercased()
            guard let level = Self.allCases.first(where: { $0.spdkName == name }) else { return nil }
            self = level
        }
    }

    /// SPDK's log components this daemon has, and those of the modules Longhorn names in its v2
    /// log flags (bdev_raid, bdev_nvme, nvmf, …): setting them is accepted and shown by
    /// log_get_flags, as SPDK does for every component it registers.
    public static let knownFlags = [
        "aio", "app_rpc", "bdev", "bdev_malloc", "bdev_nvme", "bdev_raid", "bdev_raid1", "blob", "blob_esnap", "blobfs",
        "lvol", "lvolrpc", "nbd", "nvme", "nvmf", "nvmf_tcp", "reactor", "rpc", "sock", "thread", "ublk",
    ]

    private struct State {
        var level = Level.notice
        var printLevel = Level.notice
        var flags = Set<String>()
    }

    private let state = Mutex(State())

    public init() {}

    var level: Level { state.withLock { $0.level } }
    var printLevel: Level { state.withLock { $0.printLevel } }

    /// Prints `message` when `level` is within both the log and the print level.
    public func log(_ level: Level, _ message: @autoclosure () -> String) {
        let (recorded, printed) = state.withLock { ($0.level, $0.printLevel) }
        guard level.rawValue <= recorded.rawValue, level.rawValue <= printed.rawValue else { return }
        FileHandle.standardError.write(Data("[\(level.spdkName)] \(message())\n".utf8))
    }

    /// Whether debug output of a component is on.
    public func isEnabled(_ flag: String) -> Bool { state.withLock { $0.flags.contains(flag) } }

    fileprivate func set(level: Level? = nil, printLevel: Level? = nil) {
        state.withLock { state in
            if let level { state.level = level }
            if let printLevel { state.printLevel = printLevel }
        }
    }

    fileprivate func set(flag: String, on: Bool) {
        state.withLock { state in
            if flag == "all" {
                state.flags = on ? Set(Self.knownFlags) : []
            } else if on {
                state.flags.insert(flag)
            } else {
                state.flags.remove(flag)
            }
        }
    }

    fileprivate var flags: [String: Bool] {
        state.withLock { state in Dictionary(uniqueKeysWithValues: Self.knownFlags.map { ($0, state.flags.contains($0)) }) }
    }
}

extension SPDKTarget {
    static let logMethods: [String: Method] = [
        "log_set_level": { target, params in try target.setLevel(params, print: false) },
        "log_set_print_level": { target, params in try target.setLevel(params, print: true) },
        "log_get_level": { target, params in
            try SPDKTarget.noParams(params, "log_get_level requires no parameters")
            return .string(target.logSettings.level.spdkName)
        },
        "log_get_print_level": { target, params in
            try SPDKTarget.noParams(params, "log_get_print_level requires no parameters")
            return .string(target.logSettings.printLevel.spdkName)
        },
        "log_set_flag": { target, params in try target.setFlag(params, on: true) },
        "log_clear_flag": { target, params in try target.setFlag(params, on: false) },
        "log_get_flags": { target, params in
            try SPDKTarget.noParams(params, "log_get_flags requires no parameters")
            let flags = target.logSettings.flags
            return .object(flags.keys.sorted().map { (key: $0, value: JSONValue.bool(flags[$0]!)) })
        },
    ]

    /// Runs a log method synchronously (for command-line flags at start).
    public func handleNow(_ method: String, _ params: JSONValue?) -> Result<JSONValue, JSONRPCError> {
        do {
            switch method {
            case "log_set_level": return .success(try setLevel(params, print: false))
            case "log_set_print_level": return .success(try setLevel(params, print: true))
            case "log_set_flag": return .success(try setFlag(params, on: true))
            default: return .failure(.methodNotFound)
            }
        } catch {
            return .failure(error)
        }
    }

    func setLevel(_ params: JSONValue?, print: Bool) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.requiredString("level")
        try decoder.finish()
        guard let level = LogSettings.Level(spdkName: name) else { throw .invalidParams("invalid log level") }
        if print { logSettings.set(printLevel: level) } else { logSettings.set(level: level) }
        return .bool(true)
    }

    func setFlag(_ params: JSONValue?, on: Bool) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let flag = try decoder.requiredString("flag")
        try decoder.finish()
        guard flag == "all" || LogSettings.knownFlags.contains(flag) else {
            throw .invalidParams("invalid log flag")
        }
        logSettings.set(flag: flag, on: on)
        return .bool(true)
    }
}
