// The children `hornbill server` runs, and their arguments, from the layout.

extension ServerLayout {
    public static let managerName = "manager"
    public static let v1InstanceManagerName = "instance-manager-v1"
    public static let tgtName = "tgt"
    public static let v2InstanceManagerName = "instance-manager-v2"

    public var manager: ChildSpec {
        var arguments = [
            "manager", "--data-dir", managerDataDirectory, "--listen", "0.0.0.0:\(managerPort)",
            "--v1-instance-manager", "127.0.0.1:\(v1InstanceManagerPort)",
            "--v2-instance-manager", "127.0.0.1:\(v2InstanceManagerPort)", "--disk-dir", dataDirectory,
            "--log-dir", logDirectory,
        ]
        if let nodeName { arguments += ["--node-name", nodeName] }
        if let address { arguments += ["--address", address] }
        if let apiTokenFile { arguments += ["--api-token-file", apiTokenFile] }
        return ChildSpec(name: Self.managerName, arguments: arguments)
    }

    public var v1InstanceManager: ChildSpec {
        var arguments = [
            "instance-manager", "--listen", "0.0.0.0:\(v1InstanceManagerPort)",
            "--port-range", Self.text(v1ProcessPorts), "--spdk-port-range", Self.text(v1UnusedSPDKPorts),
            "--data-dir", v1InstanceManagerDataDirectory,
        ]
        if let address { arguments += ["--ip", address] }
        return ChildSpec(name: Self.v1InstanceManagerName, arguments: arguments)
    }

    /// The tgt with `memoryMiB` for its I/O buffers, in ordinary pages when none are reserved.
    public func tgt(memoryMiB: Int, hugePagesReserved: Bool) -> ChildSpec {
        var arguments = ["tgt", "--rpc-socket", tgtSocket, "--mem-size", String(memoryMiB)]
        if !hugePagesReserved { arguments.append("--no-huge") }
        return ChildSpec(name: Self.tgtName, arguments: arguments)
    }

    public var v2InstanceManager: ChildSpec {
        var arguments = [
            "instance-manager", "--listen", "0.0.0.0:\(v2InstanceManagerPort)", "--spdk-enabled",
            "--spdk-socket", tgtSocket, "--port-range", Self.text(v2UnusedProcessPorts),
            "--spdk-port-range", Self.text(v2InstancePorts), "--data-dir", v2InstanceManagerDataDirectory,
        ]
        if let address { arguments += ["--ip", address] }
        return ChildSpec(name: Self.v2InstanceManagerName, arguments: arguments)
    }

    static func text(_ range: ClosedRange<Int>) -> String { "\(range.lowerBound)-\(range.upperBound)" }
}
