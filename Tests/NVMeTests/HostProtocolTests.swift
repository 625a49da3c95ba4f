// A hostile controller meets the host: a scripted target on a raw socket answers the host's
// connect sequence as a target does, except at one step where it lies (zero-length data PDUs,
// R2Ts asking for nothing or twice, an alignment PDO cannot hold, sizes the host cannot address).
// The host must fail the attach with an error (and, for a transport violation, send an
// H2CTermReq naming the fault), never trap.

import BlockCore
import BlockDevices
import Foundation
import NVMeTCP
import NVMeWire
import TestSupport
import Testing

/// Where the scripted controller lies.
enum Lie: Sendable {
    case alignmentAbove31
    case zeroMaxH2CData
    case zeroLengthC2HDataWithSuccess
    case zeroLengthC2HDataThenResponse
    case zeroLengthR2T
    case r2tTwiceForTheSameData
    case queueDepthOne
    case namespaceTooLarge
    case terminationWithoutData
}

/// What the scripted controller saw: the host's H2CTermReq, if it sent one.
struct ScriptOutcome: Sendable {
    var termination: TermReq?
}

/// Plays an NVMe/TCP controller on one connection until the host closes it.
private func playController(_ socket: RawSocket, lie: Lie) -> ScriptOutcome {
    var framer = PDUFramer(role: .controller)
    var buffer: [UInt8] = []
    var outcome = ScriptOutcome()
    let deadline = ContinuousClock.now + .seconds(20)
    var connectPending: SubmissionEntry?

    func pdu(_ write: (UnsafeMutableRawBufferPointer) -> Int, data: [UInt8] = []) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 256)
        let length = out.withUnsafeMutableBytes(write)
        return Array(out[0..<length]) + data
    }
    func respond(_ command: SubmissionEntry, dw0: UInt32 = 0) {
        let completion = CompletionEntry(commandID: command.commandID, status: .success, dw0: dw0)
        socket.send(pdu { PDUHeaderWriter.capsuleResponse(completion, digests: [], into: $0) })
    }
    func reply(_ command: SubmissionEntry, _ data: [UInt8]) {
        let fields = DataPDUHeader(commandID: command.commandID, offset: 0, length: UInt32(data.count))
        socket.send(pdu({ PDUHeaderWriter.data(.c2hData, fields, flags: [.lastPDU, .success], dataBytes: data.count, digests: [], into: $0) }, data: data))
    }
    func r2t(_ command: SubmissionEntry, offset: UInt32, length: UInt32) {
        let fields = DataPDUHeader(commandID: command.commandID, transferTag: 1, offset: offset, length: length)
        socket.send(pdu { PDUHeaderWriter.data(.r2t, fields, flags: [], dataBytes: 0, digests: [], into: $0) })
    }

    while ContinuousClock.now < deadline {
        var framed: (type: PDUType, header: [UInt8], length: Int)?
        do {
            framed = try buffer.withUnsafeBytes { raw in
                try framer.frame(raw).map { ($0.type, Array($0.header), $0.length) }
            }
        } catch {
            return outcome
        }
        guard let (type, header, length) = framed else {
            guard let chunk = socket.receive(timeout: .seconds(1)) else { return outcome }
            buffer += chunk
            continue
        }
        buffer.removeFirst(length)
        switch type {
        case .icReq:
            framer.initialized = true
            let response = ICResp(
                controllerDataAlignment: lie == .alignmentAbove31 ? 200 : 0, digests: [],
                maxH2CDataBytes: lie == .zeroMaxH2CData ? 0 : 131_072)
            socket.send(response.encode())
        case .h2cTermReq:
            outcome.termination = header.withUnsafeBytes { TermReq(header: $0, data: UnsafeRawBufferPointer(start: nil, count: 0)) }
            return outcome
        case .h2cData:
            if let connect = connectPending {
                connectPending = nil
                respond(connect, dw0: 1)
            }
        case .capsuleCmd:
            let command = header.withUnsafeBytes { SubmissionEntry(bytes: UnsafeRawBufferPointer(rebasing: $0[8..<72])) }
            if command.opcode == AdminOpcode.fabrics {
                switch command.fabricsType {
                case FabricsType.connect:
                    switch lie {
                    case .zeroLengthR2T:
                        r2t(command, offset: 0, length: 0)
                    case .r2tTwiceForTheSameData:
                        connectPending = command
                        r2t(command, offset: 0, length: 1024)
                        r2t(command, offset: 0, length: 1024)
                    default:
                        respond(command, dw0: 1)
                    }
                case FabricsType.propertyGet:
                    respond(command, dw0: command.cdw11 == PropertyOffset.status ? 1 : 127 | 30 << 24)
                default:
                    respond(command)
                }
                continue
            }
            switch (command.opcode, command.cdw10 & 0xFF) {
            case (AdminOpcode.identify, 1):
                let identity = ControllerIdentity(
                    serialNumber: "lie", modelNumber: "lie", firmwareRevision: "1", controllerID: 1, subsystemNQN: "nqn.2023-01.io.hornbill:lie",
                    maxNamespaces: 1, queueDepth: lie == .queueDepthOne ? 1 : 128)
                switch lie {
                case .terminationWithoutData:
                    socket.send(TermReq(status: FatalErrorStatus.invalidHeaderField.rawValue, fieldInfo: 0, offendingHeader: []).encode(fromController: true))
                case .zeroLengthC2HDataWithSuccess:
                    reply(command, [])
                case .zeroLengthC2HDataThenResponse:
                    let fields = DataPDUHeader(commandID: command.commandID, offset: 0, length: 0)
                    socket.send(pdu { PDUHeaderWriter.data(.c2hData, fields, flags: [.lastPDU], dataBytes: 0, digests: [], into: $0) })
                    respond(command)
                default:
                    reply(command, identity.encode())
                }
            case (AdminOpcode.identify, 2):
                reply(command, activeNamespaceList([1], after: 0))
            case (AdminOpcode.identify, 0):
                var namespace = NamespaceIdentity(blockCount: 1024, blockSize: 512, uuid: [UInt8](repeating: 9, count: 16))
                if lie == .namespaceTooLarge { namespace.blockCount = UInt64.max / 256 }
                reply(command, namespace.encode())
            case (AdminOpcode.identify, 3):
                reply(command, NamespaceIdentity(blockCount: 1024, blockSize: 512, uuid: [UInt8](repeating: 9, count: 16)).descriptorList())
            case (AdminOpcode.setFeatures, _):
                respond(command, dw0: 3 | 3 << 16)
            default:
                respond(command)
            }
        default:
            return outcome
        }
    }
    return outcome
}

@Suite struct HostProtocolTests {
    /// Attaches the host to a scripted controller that lies as told; returns the attach error and
    /// what the controller saw.
    func attach(lying lie: Lie) async throws -> (error: String?, outcome: ScriptOutcome) {
        let listener = try RawListener()
        let script = BackgroundThread { () -> ScriptOutcome in
            guard let socket = listener.accept(timeout: .seconds(10)) else { return ScriptOutcome() }
            return playController(socket, lie: lie)
        }
        var options = NVMeHostController.Options(address: "127.0.0.1", serviceID: String(listener.port), subsystemNQN: "nqn.2023-01.io.hornbill:lie")
        options.connectTimeout = .seconds(5)
        var failure: String?
        do {
            let controller = try await NVMeHostController.attach(name: "lie", options: options, reactor: NVMeFabric.shared.hostReactor)
            await controller.detach()
        } catch {
            failure = "\(error)"
        }
        return (failure, try await script.value())
    }

    @Test(arguments: [
        (Lie.zeroLengthC2HDataWithSuccess, "C2HData DATAL 0"),
        (Lie.zeroLengthC2HDataThenResponse, "C2HData DATAL 0"),
        (Lie.zeroLengthR2T, "R2T with R2TL 0"),
    ])
    func zeroLengthDataPDUsEndTheQueueWithATermReq(lie: Lie, said: String) async throws {
        let (error, outcome) = try await attach(lying: lie)
        #expect(error?.contains(said) == true, "\(error ?? "attached")")
        #expect(outcome.termination?.status == FatalErrorStatus.invalidHeaderField.rawValue)
        #expect(outcome.termination?.fieldInfo == DataPDUHeader.lengthFieldOffset)
    }

    @Test func anR2TForDataAlreadyAskedForIsOutOfRange() async throws {
        let (error, outcome) = try await attach(lying: .r2tTwiceForTheSameData)
        #expect(error?.contains("expected from 1024") == true, "\(error ?? "attached")")
        #expect(outcome.termination?.status == FatalErrorStatus.dataTransferOutOfRange.rawValue)
        #expect(outcome.termination?.fieldInfo == DataPDUHeader.offsetFieldOffset)
    }

    @Test(arguments: [(Lie.alignmentAbove31, "CPDA 200", UInt32(10)), (Lie.zeroMaxH2CData, "MAXH2CDATA 0", UInt32(12))])
    func anICRespTheHostCannotHonourIsRefused(lie: Lie, said: String, field: UInt32) async throws {
        let (error, outcome) = try await attach(lying: lie)
        #expect(error?.contains(said) == true, "\(error ?? "attached")")
        #expect(outcome.termination?.status == FatalErrorStatus.invalidHeaderField.rawValue)
        #expect(outcome.termination?.fieldInfo == field)
    }

    @Test(arguments: [
        (Lie.queueDepthOne, "MAXCMD 1"), (Lie.namespaceTooLarge, "too many to address"),
        (Lie.terminationWithoutData, "the controller ended queue 0: fatal error status 1"),
    ])
    func identifyDataTheHostCannotUseFailsTheAttach(lie: Lie, said: String) async throws {
        let (error, _) = try await attach(lying: lie)
        #expect(error?.contains(said) == true, "\(error ?? "attached")")
    }
}
