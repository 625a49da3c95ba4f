// The process manager's wire messages (package-less imrpc.proto) to and from the process
// supervisor's values. The wire and supervisor types share names, hence the module prefixes.

import InstanceManager
import InstanceManagerAPI

extension InstanceManagerAPI.ProcessSpec {
    init(supervised spec: InstanceManager.ProcessSpec) {
        self.init()
        name = spec.name
        binary = spec.binary
        args = spec.args
        portCount = Int32(clamping: spec.portCount)
        portArgs = spec.portArgs
    }

    /// The spec to run; the port count is checked by the supervisor.
    var supervised: InstanceManager.ProcessSpec {
        InstanceManager.ProcessSpec(
            name: name, binary: binary, args: args, portCount: Int(portCount), portArgs: portArgs)
    }
}

extension InstanceManagerAPI.ProcessResponse {
    init(supervised response: InstanceManager.ProcessResponse) {
        self.init()
        spec = InstanceManagerAPI.ProcessSpec(supervised: response.spec)
        status.state = response.status.state.rawValue
        status.errorMsg = response.status.errorMessage
        status.portStart = Int32(clamping: response.status.portStart)
        status.portEnd = Int32(clamping: response.status.portEnd)
        status.conditions = response.status.conditions
        status.uuid = response.status.uuid
        deleted = response.deleted
    }
}
