// Fuzzing what a peer's bytes reach in the replica protocol: request and response headers (the
// replica decodes requests, the controller responses) and the info answer's JSON. Random and
// mutated inputs decode to a value consistent with the bytes, or to nil or a thrown
// `ReplicaError`; nothing traps.

import BlockDevices
import DataEngineV1
import Foundation
import StorageKit
import TestSupport
import Testing

@Suite struct ReplicaProtocolFuzzTests {
    @Test func headersDecodeOnlyWithTheirMagicAndRoundTrip() {
        var random = SeededRandom(seed: 40)
        let request = ReplicaRequest(kind: .write, flags: 1, id: 7, offset: 4096, length: 512, revision: 3).bytes
        var response = [UInt8](repeating: 0, count: ReplicaProtocol.responseBytes)
        response.withUnsafeMutableBytes { ReplicaResponse(kind: 1, status: 5, id: 7, length: 4096).write(into: $0) }
        var decoded = (requests: 0, responses: 0)
        for round in 0..<20_000 {
            let bytes: [UInt8] =
                switch round % 3 {
                case 0: ByteMutator.random(count: Int.random(in: 0..<48, using: &random), using: &random)
                case 1: ByteMutator.mutate(request, using: &random)
                default: ByteMutator.mutate(response, using: &random)
                }
            if let decodedRequest = bytes.withUnsafeBytes({ ReplicaRequest(bytes: $0) }) {
                decoded.requests += 1
                var again = decodedRequest.bytes
                again[6] = bytes[6]
                again[7] = bytes[7]
                for index in 28..<32 { again[index] = bytes[index] }  // reserved fields are not kept
                #expect(again == Array(bytes.prefix(ReplicaProtocol.requestBytes)))
            }
            if let decodedResponse = bytes.withUnsafeBytes({ ReplicaResponse(bytes: $0) }) {
                decoded.responses += 1
                var again = [UInt8](repeating: 0, count: ReplicaProtocol.responseBytes)
                again.withUnsafeMutableBytes { decodedResponse.write(into: $0) }
                #expect(again[0..<5] == bytes[0..<5] && again[6..<20] == bytes[6..<20])
            }
        }
        #expect(decoded.requests > 0 && decoded.responses > 0)
    }

    @Test func infoAnswersDecodeOrThrow() throws {
        let valid = Array(#"{"dirty":false,"error":"","head":"volume-head-000.img","revision":12,"sectorSize":512,"size":67108864}"#.utf8)
        #expect(try ReplicaInfo(json: valid) == ReplicaInfo(size: 67_108_864, revision: 12))
        #expect(try ReplicaInfo(json: Array(#"{"size":4096,"revision":0,"error":"x"}"#.utf8)) == ReplicaInfo(size: 4096, revision: 0, error: "x"))
        #expect(try ReplicaInfo(json: Array(#"{"size":4096,"revision":1}"#.utf8)) == ReplicaInfo(size: 4096, revision: 1))
        for bad in [#"[]"#, #"{"size":1.5,"revision":1}"#, #"{"size":true,"revision":1}"#, #"{"size":1e30,"revision":1}"#, #"{"revision":1}"#, "", "nul"] {
            #expect(throws: ReplicaError.self) { try ReplicaInfo(json: Array(bad.utf8)) }
        }
        #expect(throws: ReplicaError.self) { try ReplicaInfo(json: [UInt8](repeating: 0x20, count: ReplicaInfo.maxBytes + 1)) }
        var random = SeededRandom(seed: 41)
        var outcomes = (decoded: 0, refused: 0)
        for _ in 0..<3_000 {
            do {
                _ = try ReplicaInfo(json: ByteMutator.mutate(valid, using: &random))
                outcomes.decoded += 1
            } catch {
                outcomes.refused += 1
            }
        }
        #expect(outcomes.decoded > 0 && outcomes.refused > 0)
    }
}

private let hostileReactor: Reactor = {
    do { return try Reactor(name: "hostile-replica") } catch { fatalError("\(error)") }
}()

/// A replica that answers the controller's first request (info) with `response` and `payload`,
/// then waits for the controller to close the connection.
private func hostileReplica(_ listener: RawListener, response: ReplicaResponse, payload: [UInt8]) -> Bool {
    guard let socket = listener.accept(timeout: .seconds(10)),
        let request = socket.receive(exactly: ReplicaProtocol.requestBytes, timeout: .seconds(10)),
        let decoded = request.withUnsafeBytes({ ReplicaRequest(bytes: $0) })
    else { return false }
    var answer = response
    answer.id = decoded.id
    var header = [UInt8](repeating: 0, count: ReplicaProtocol.responseBytes)
    header.withUnsafeMutableBytes { answer.write(into: $0) }
    socket.send(header + payload)
    return socket.drainUntilClosed(timeout: .seconds(10))
}

@Suite struct HostileReplicaTests {
    @Test(arguments: [
        // A failed info with more bytes than an info may have.
        (ReplicaResponse(kind: ReplicaProtocol.Kind.info.rawValue, status: 5, id: 0, length: 100_000), 100_000),
        // An answer of another kind, and one longer than the controller's buffer.
        (ReplicaResponse(kind: ReplicaProtocol.Kind.read.rawValue, status: 0, id: 0, length: 4096), 4096),
        (ReplicaResponse(kind: ReplicaProtocol.Kind.info.rawValue, status: 0, id: 0, length: 5000), 5000),
        // A payload length above the protocol's largest.
        (ReplicaResponse(kind: ReplicaProtocol.Kind.info.rawValue, status: 0, id: 0, length: UInt32.max), 0),
    ])
    func aLyingReplicaIsNotUsedAndTheControllerLives(response: ReplicaResponse, payloadBytes: Int) async throws {
        let listener = try RawListener()
        let replica = BackgroundThread { hostileReplica(listener, response: response, payload: [UInt8](repeating: 0x7B, count: payloadBytes)) }
        do {
            let controller = try await V1Controller.start(
                volume: "hostile", size: 1 << 20, replicas: ["tcp://127.0.0.1:\(listener.port)"], reactor: hostileReactor, timeout: .seconds(2))
            await controller.stop()
            Issue.record("the controller used a replica that lied")
        } catch {
            #expect("\(error)".contains("no usable replica"), "\(error)")
        }
        #expect(try await replica.value(), "the controller did not close the lying replica's connection")
    }
}
