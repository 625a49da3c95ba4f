// The tgt's log settings (SPDK's log_* methods), for InstanceService's LogSetLevel/LogSetFlags/
// LogGetLevel/LogGetFlags. Flags travel as one comma-separated string, as Longhorn's API has them.

import JSONRPC

extension V2Instances {
    /// log_set_level and log_set_print_level; the tgt refuses an unknown level.
    public func logSetLevel(_ level: String) async throws(InstanceManagerError) {
        guard !level.isEmpty else { throw .invalidArgument("log level is required") }
        try await tgt.call("log_set_level", [("level", .string(level))])
        try await tgt.call("log_set_print_level", [("level", .string(level))])
    }

    /// Enables each flag of a comma-separated list (log_set_flag); "" changes nothing.
    public func logSetFlags(_ flags: String) async throws(InstanceManagerError) {
        let names = flags.split(separator: ",").map { $0.filter { !$0.isWhitespace } }.filter { !$0.isEmpty }
        for name in names {
            try await tgt.call("log_set_flag", [("flag", .string(name))])
        }
    }

    /// log_get_level.
    public func logGetLevel() async throws(InstanceManagerError) -> String {
        guard case .string(let level) = try await tgt.call("log_get_level") else {
            throw InstanceManagerError(.internalError, "log_get_level answered something other than a string")
        }
        return level
    }

    /// The enabled flags (log_get_flags), sorted and comma-separated.
    public func logGetFlags() async throws(InstanceManagerError) -> String {
        guard case .object(let members) = try await tgt.call("log_get_flags") else {
            throw InstanceManagerError(.internalError, "log_get_flags answered something other than an object")
        }
        return members.filter { $0.value == .bool(true) }.map(\.key).sorted().joined(separator: ",")
    }
}
