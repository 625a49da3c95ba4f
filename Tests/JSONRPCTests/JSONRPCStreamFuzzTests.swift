// Fuzzing the JSON-RPC decoding path a client's bytes take: stream splitter, parser, request
// validation. Mutated pipelined request streams, fed in random chunk sizes, give values that
// parse or are refused with a `JSONParseError`, and requests that validate or fail with SPDK's
// codes; nothing traps.

import JSONRPC
import StorageKit
import TestSupport
import Testing

@Suite struct JSONRPCStreamFuzzTests {
    static let stream = Array("""
        {"jsonrpc":"2.0","method":"bdev_get_bdevs","params":{"name":"Malloc0","timeout":10},"id":1}
        {"jsonrpc":"2.0","method":"framework_wait_init"}[1,{"a":"\\u00e9\\ud83d\\ude00"}]
        {"jsonrpc":"2.0","method":"nvmf_get_subsystems","id":"two","params":null} 17 "s" true
        """.utf8)

    @Test func mutatedStreamsSplitParseAndValidateOrAreRefused() {
        var random = SeededRandom(seed: 2014)
        var outcomes = (requests: 0, invalid: 0, unparsable: 0, streamErrors: 0)
        for round in 0..<4_000 {
            let bytes =
                round % 5 == 0
                ? ByteMutator.random(count: Int.random(in: 0..<200, using: &random), using: &random)
                : ByteMutator.mutate(Self.stream, maxEdits: 8, using: &random)
            var splitter = JSONStreamSplitter(maxValueBytes: 1024)
            var offset = 0
            do {
                while offset < bytes.count {
                    let end = min(bytes.count, offset + Int.random(in: 1...64, using: &random))
                    splitter.append(bytes[offset..<end])
                    offset = end
                    while let value = try splitter.next() {
                        #expect(!value.isEmpty)
                        do {
                            switch JSONRPCRequest.decode(try JSONParser.parse(value)) {
                            case .success: outcomes.requests += 1
                            case .failure(let failure):
                                #expect(failure.error.code == -32600)
                                outcomes.invalid += 1
                            }
                        } catch {
                            outcomes.unparsable += 1
                        }
                    }
                }
                #expect(splitter.bufferedByteCount <= bytes.count)
            } catch {
                outcomes.streamErrors += 1
            }
        }
        #expect(outcomes.requests > 0 && outcomes.invalid > 0 && outcomes.unparsable > 0 && outcomes.streamErrors > 0, "\(outcomes)")
    }

    @Test func deepNestingAndHugeTokensAreRefusedNotRecursed() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([UInt8](repeating: UInt8(ascii: "["), count: 100_000)) }
        let deep = [UInt8](repeating: UInt8(ascii: "["), count: 10_000) + [UInt8](repeating: UInt8(ascii: "]"), count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        #expect((try? JSONParser.parse([UInt8](repeating: UInt8(ascii: "7"), count: 200_000))) != nil)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(#""\ud800""#.utf8)) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(#""\u12"#.utf8)) }
        var splitter = JSONStreamSplitter()
        splitter.append([UInt8](repeating: UInt8(ascii: "["), count: JSONRPCLimits.maxRequestBytes + 1))
        #expect(throws: JSONParseError.self) { _ = try splitter.next() }
    }
}
