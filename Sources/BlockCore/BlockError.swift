// Operating errors of the block layer (design/STYLE.md #2): a code, a message that says what
// went wrong in words a user can act on, and the errno when one came from the kernel.

/// An error returned by a block device, an lvstore or an lvol.
public struct BlockError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        case invalidArgument = "invalid argument"
        case outOfRange = "out of range"
        case readOnly = "read-only"
        case notSupported = "not supported"
        case noSpace = "no space left on device"
        case noMemory = "cannot allocate memory"
        case ioError = "I/O error"
        case busy = "busy"
        case notFound = "not found"
        case alreadyExists = "already exists"
        case corrupted = "corrupted"
        case claimed = "claimed"
        case closed = "closed"
    }

    public var code: Code
    public var message: String
    /// The kernel's errno when the error came from a system call.
    public var systemErrno: Int32?

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.systemErrno = errno
    }

    public var description: String { message }

    /// The POSIX errno that best names this error, for RPC edges that report errnos.
    public var errnoValue: Int32 {
        if let systemErrno { return systemErrno }
        switch code {
        case .invalidArgument, .outOfRange: return 22  // EINVAL
        case .readOnly: return 1  // EPERM
        case .notSupported: return 95  // EOPNOTSUPP
        case .noSpace: return 28  // ENOSPC
        case .noMemory: return 12  // ENOMEM
        case .ioError, .corrupted: return 5  // EIO
        case .busy, .claimed: return 16  // EBUSY
        case .notFound: return 19  // ENODEV
        case .alreadyExists: return 17  // EEXIST
        case .closed: return 9  // EBADF
        }
    }
}
