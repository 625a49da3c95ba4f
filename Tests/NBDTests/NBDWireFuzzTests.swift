// Fuzzing the NBD decoders a client's bytes reach: request headers and the data of
// NBD_OPT_INFO/NBD_OPT_GO. Random and mutated inputs decode to a value consistent with the bytes
// or to nil; nothing traps.

import NBD
import StorageKit
import TestSupport
import Testing

@Suite struct NBDWireFuzzTests {
    @Test func infoRequestsRoundTripAndLiesAreRefused() {
        let request = NBDInfoRequest(name: "vol-é", requested: [NBDWire.infoName, NBDWire.infoBlockSize])
        #expect(NBDInfoRequest(data: request.bytes) == request)
        #expect(NBDInfoRequest(data: NBDInfoRequest(name: "").bytes) == NBDInfoRequest(name: ""))
        // A name length past the data, short of it, or no room for the count: refused.
        var longer = request.bytes
        longer[3] &+= 1
        #expect(NBDInfoRequest(data: longer) == nil)
        var shorter = request.bytes
        shorter[3] &-= 1
        #expect(NBDInfoRequest(data: shorter) == nil)
        #expect(NBDInfoRequest(data: [0xFF, 0xFF, 0xFF, 0xFF, 0, 0]) == nil)
        #expect(NBDInfoRequest(data: []) == nil && NBDInfoRequest(data: [0, 0, 0, 0, 0]) == nil)
        #expect(NBDInfoRequest(data: request.bytes.dropLast()) == nil)
    }

    @Test func mutatedInfoRequestsDecodeConsistentlyOrNot() {
        var random = SeededRandom(seed: 77)
        let valid = [
            NBDInfoRequest(name: "vol", requested: [NBDWire.infoName]).bytes,
            NBDInfoRequest(name: "").bytes,
            NBDInfoRequest(name: String(repeating: "x", count: 300), requested: [1, 2, 3]).bytes,
        ]
        var decoded = 0
        for round in 0..<20_000 {
            let data =
                round % 3 == 0
                ? ByteMutator.random(count: Int.random(in: 0..<64, using: &random), using: &random)
                : ByteMutator.mutate(valid[round % valid.count], using: &random)
            guard let request = NBDInfoRequest(data: data) else { continue }
            decoded += 1
            let nameLength = Int(data[0]) << 24 | Int(data[1]) << 16 | Int(data[2]) << 8 | Int(data[3])
            #expect(data.count == 6 + nameLength + 2 * request.requested.count)
        }
        #expect(decoded > 0)
    }

    @Test func requestHeadersDecodeOnlyWithTheirMagic() {
        var random = SeededRandom(seed: 78)
        let valid = NBDRequest(flags: 1, type: NBDWire.Command.write.rawValue, cookie: 9, offset: 4096, length: 512).bytes
        #expect(valid.withUnsafeBytes { NBDRequest(bytes: $0) }?.bytes == valid)
        var decoded = 0
        for round in 0..<20_000 {
            let bytes =
                round % 2 == 0
                ? ByteMutator.random(count: Int.random(in: 0..<40, using: &random), using: &random)
                : ByteMutator.mutate(valid, using: &random)
            guard let request = bytes.withUnsafeBytes({ NBDRequest(bytes: $0) }) else { continue }
            decoded += 1
            #expect(request.bytes == Array(bytes.prefix(NBDWire.requestBytes)))
        }
        #expect(decoded > 0)
    }
}
