/// The state of an engine or replica instance, desired (`spec.desireState`) or observed
/// (`status.currentState`). `terminated` appears only in orphans' conditions.
public enum InstanceState: String, LonghornEnum {
    case running, suspended, stopped, error, starting, stopping, unknown, terminated
    /// Go's zero value is `""`; an instance nothing has started yet is stopped.
    public static var zero: InstanceState { .stopped }
}
