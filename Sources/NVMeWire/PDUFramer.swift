// Finds PDUs in a receive buffer without copying: `frame` looks at the bytes received so far and
// returns the first complete PDU (a view into those bytes) or nil when more bytes are needed. It
// validates everything the common header and digests can tell, so the queue pair only sees
// well-formed PDUs; a violation is a `TransportError`, which ends the connection with a TermReq.
//
// The caller owns the buffer: a view is valid until the caller moves or overwrites those bytes.

import StorageKit

/// A complete PDU inside the receive buffer.
public struct PDUView {
    public let type: PDUType
    public let flags: PDUFlags
    /// The HLEN header bytes (common header included).
    public let header: UnsafeRawBufferPointer
    /// The data bytes, without padding or digest; empty when the PDU has none.
    public let data: UnsafeRawBufferPointer
    /// False when a data digest was present and did not match (the command fails, the connection lives).
    public let dataDigestMatches: Bool
    /// PLEN: the bytes this PDU occupies.
    public let length: Int
}

public struct PDUFramer: Sendable {
    /// Which end receives: a controller receives host PDUs, a host receives controller PDUs.
    public enum Role: Sendable { case controller, host }

    public let role: Role
    /// Digests negotiated by ICReq/ICResp; none before.
    public var digests: DigestOptions = []
    /// True once the connection's ICReq/ICResp exchange is done.
    public var initialized = false
    /// Most data bytes a PDU may carry.
    public var maxDataBytes: Int

    public init(role: Role, maxDataBytes: Int = NVMeWireLimits.maxIOBytes) {
        self.role = role
        self.maxDataBytes = maxDataBytes
    }

    /// The first complete PDU in `bytes`, or nil if `bytes` holds only part of one.
    public func frame(_ bytes: UnsafeRawBufferPointer) throws(TransportError) -> PDUView? {
        guard bytes.count >= 8 else { return nil }
        guard let type = PDUType(rawValue: bytes[0]) else {
            throw TransportError(.invalidHeaderField, fieldInfo: 0, "unknown PDU type \(bytes[0])")
        }
        guard type.isHostToController == (role == .controller) else {
            throw TransportError(.invalidHeaderField, fieldInfo: 0, "PDU type \(type) travels the other way")
        }
        let isInitialize = type == .icReq || type == .icResp
        let isTermination = type == .h2cTermReq || type == .c2hTermReq
        guard isTermination || isInitialize != initialized else {
            throw TransportError(
                .pduSequenceError, "\(type) \(initialized ? "after" : "before") the connection was initialized")
        }
        let flags = PDUFlags(rawValue: bytes[1])
        let hlen = Int(bytes[2])
        let pdo = Int(bytes[3])
        let plen = Int(bytes.le(4, as: UInt32.self))
        guard hlen == type.headerLength else {
            throw TransportError(.invalidHeaderField, fieldInfo: 2, "\(type) HLEN \(hlen), expected \(type.headerLength)")
        }
        let hasHeaderDigest = type.carriesHeaderDigest && digests.contains(.header)
        guard flags.contains(.headerDigest) == hasHeaderDigest else {
            throw TransportError(
                .invalidHeaderField, fieldInfo: 1,
                "header digest flag \(flags.contains(.headerDigest) ? "set" : "clear") but digests are \(hasHeaderDigest ? "on" : "off")")
        }
        let headerEnd = hlen + (hasHeaderDigest ? 4 : 0)
        let maxLength =
            switch type {
            case .icReq, .icResp: 128
            case .h2cTermReq, .c2hTermReq: 24 + NVMeWireLimits.maxHeaderLength
            default: NVMeWireLimits.maxPDUBytes
            }
        guard plen >= headerEnd, plen <= maxLength else {
            throw TransportError(.invalidHeaderField, fieldInfo: 4, "\(type) PLEN \(plen) outside \(headerEnd)...\(maxLength)")
        }
        guard bytes.count >= plen else { return nil }
        let header = UnsafeRawBufferPointer(rebasing: bytes[0..<hlen])
        if hasHeaderDigest {
            let expected = CRC32C.checksum(header)
            guard bytes.le(hlen, as: UInt32.self) == expected else {
                throw TransportError(.headerDigestError, "\(type) header digest mismatch")
            }
        }
        guard plen > headerEnd else {
            guard !flags.contains(.dataDigest) else {
                throw TransportError(.invalidHeaderField, fieldInfo: 1, "\(type) has a data digest flag but no data")
            }
            return PDUView(
                type: type, flags: flags, header: header, data: UnsafeRawBufferPointer(start: nil, count: 0),
                dataDigestMatches: true, length: plen)
        }
        guard type.carriesData else {
            throw TransportError(.invalidHeaderField, fieldInfo: 4, "\(type) carries no data but PLEN is \(plen)")
        }
        let isTermReq = type == .h2cTermReq || type == .c2hTermReq
        let hasDataDigest = !isTermReq && digests.contains(.data)
        guard flags.contains(.dataDigest) == hasDataDigest else {
            throw TransportError(
                .invalidHeaderField, fieldInfo: 1,
                "data digest flag \(flags.contains(.dataDigest) ? "set" : "clear") but data digests are \(hasDataDigest ? "on" : "off")")
        }
        let dataStart = isTermReq ? hlen : pdo
        let dataEnd = plen - (hasDataDigest ? 4 : 0)
        guard dataStart >= headerEnd, dataStart <= dataEnd else {
            throw TransportError(.invalidHeaderField, fieldInfo: 3, "\(type) PDO \(pdo) outside \(headerEnd)...\(dataEnd)")
        }
        guard dataEnd - dataStart <= maxDataBytes else {
            throw TransportError(
                .dataTransferLimitExceeded, "\(type) carries \(dataEnd - dataStart) bytes, limit \(maxDataBytes)")
        }
        let data = UnsafeRawBufferPointer(rebasing: bytes[dataStart..<dataEnd])
        var digestMatches = true
        if hasDataDigest { digestMatches = bytes.le(dataEnd, as: UInt32.self) == CRC32C.checksum(data) }
        return PDUView(type: type, flags: flags, header: header, data: data, dataDigestMatches: digestMatches, length: plen)
    }
}
