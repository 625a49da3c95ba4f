// Checks of a ProcessSpec before anything is allocated or started: a bad spec changes nothing.

import Glibc

extension ProcessSpec {
    func validate() throws(InstanceManagerError) {
        guard !name.isEmpty else { throw .invalidArgument("missing required argument: name") }
        guard !binary.isEmpty else { throw .invalidArgument("missing required argument: binary") }
        guard name.utf8.count <= InstanceManagerLimits.maxProcessNameBytes else {
            throw .invalidArgument(
                "process name is \(name.utf8.count) bytes, longer than \(InstanceManagerLimits.maxProcessNameBytes)")
        }
        guard !name.contains("/"), !name.utf8.contains(0), name != ".", name != ".." else {
            throw .invalidArgument("invalid process name \(name): it names a file, so no '/' and not . or ..")
        }
        guard portCount >= 0, portCount <= InstanceManagerLimits.maxPortsPerInstance else {
            throw .invalidArgument(
                "invalid port count \(portCount): must be 0 to \(InstanceManagerLimits.maxPortsPerInstance)")
        }
        guard portArgs.count <= portCount else {
            throw .invalidArgument("too many port args \(portArgs.count) for port count \(portCount)")
        }
        let arguments = args + portArgs
        guard arguments.count <= InstanceManagerLimits.maxProcessArguments else {
            throw .invalidArgument(
                "\(arguments.count) arguments, more than \(InstanceManagerLimits.maxProcessArguments)")
        }
        let argumentBytes = arguments.reduce(0) { $0 + $1.utf8.count + 1 }
        guard argumentBytes <= InstanceManagerLimits.maxProcessArgumentBytes else {
            throw .invalidArgument(
                "arguments take \(argumentBytes) bytes, more than \(InstanceManagerLimits.maxProcessArgumentBytes)")
        }
        guard !arguments.contains(where: { $0.utf8.contains(0) }) else {
            throw .invalidArgument("an argument contains a NUL byte")
        }
        try Self.validateExecutable(binary)
    }

    private static func validateExecutable(_ path: String) throws(InstanceManagerError) {
        guard path.hasPrefix("/"), !path.utf8.contains(0) else {
            throw .invalidArgument("binary \(path) is not an absolute path")
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .invalidArgument("binary \(path): \(errnoText())")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw .invalidArgument("binary \(path) is not a regular file")
        }
        guard access(path, X_OK) == 0 else {
            throw .invalidArgument("binary \(path) is not executable")
        }
    }

    /// The arguments with the port arguments appended, as Longhorn builds them: for each i,
    /// `portArgs[i]` followed by `portStart + i`, split on ",".
    func arguments(portStart: Int) -> [String] {
        var result = args
        for (index, portArg) in portArgs.enumerated() {
            result += (portArg + String(portStart + index)).split(separator: ",", omittingEmptySubsequences: false).map(
                String.init)
        }
        return result
    }
}
