import JSONRPC
import StorageKit
import Testing

private func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

@Suite struct JSONParserTests {
    @Test func valuesKeepNumberTextAndMemberOrder() throws {
        let value = try parse(#" {"b": 1.50, "a": [true, false, null, -0, 2e10, "x\n\u00e9\ud83d\ude00"], "b": {}} "#)
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["b", "a", "b"])
        #expect(members[0].value == .number("1.50"))
        #expect(value["a"] == .array([.bool(true), .bool(false), .null, .number("-0"), .number("2e10"), .string("x\né😀")]))
        #expect(String(decoding: value.encoded(), as: UTF8.self) == #"{"b":1.50,"a":[true,false,null,-0,2e10,"x\né😀"],"b":{}}"#)
    }

    @Test(arguments: [
        "", " ", "{", "}", "[1,]", "{\"a\"}", "{\"a\":}", "{a:1}", "01", "1.", "-", "1e", "tru", "nul",
        "\"abc", "\"\\x\"", "\"\\ud800\"", "\"\\udc00x\"", "[1 2]", "{\"a\":1,}", "\"\u{01}\"", "1 2", "+1", ".5",
    ])
    func invalidTextIsRefused(text: String) {
        #expect(throws: JSONParseError.self) { try parse(text) }
    }

    @Test func limitsAreEnforced() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONParseError.self) { try parse(deep) }
        let many = "[" + Array(repeating: "1", count: 9000).joined(separator: ",") + "]"
        #expect(throws: JSONParseError.self) { try parse(many) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array("[1,2,3]".utf8), maxValues: 3) }
    }

    @Test(arguments: [10, 64, 65, 1000, 100_000])
    func nestingIsBoundedWithoutDeepRecursion(depth: Int) {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let text = String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth)
            if depth <= JSONRPCLimits.maxDepth {
                #expect((try? parse(text)) != nil)
            } else {
                #expect(throws: JSONParseError.self) { try parse(text) }
            }
        }
    }

    @Test func randomAndMutatedInputNeverCrashes() throws {
        var random = SeededRandom(seed: 5)
        let sample = Array(#"{"jsonrpc":"2.0","method":"bdev_get_bdevs","params":{"name":"Malloc0","x":[1,2.5e-3,"\u0041"]},"id":1}"#.utf8)
        #expect((try? JSONParser.parse(sample)) != nil)
        let alphabet = Array("{}[]\",:\\ 0123456789.eE+-tfnrul\"u".utf8)
        for round in 0..<20_000 {
            var bytes = sample
            if round % 2 == 0 {
                for _ in 0..<Int.random(in: 1...5, using: &random) {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] = alphabet.randomElement(using: &random)!
                }
            } else {
                bytes = (0..<Int.random(in: 0...40, using: &random)).map { _ in
                    Bool.random(using: &random) ? alphabet.randomElement(using: &random)! : UInt8.random(in: 0...255, using: &random)
                }
            }
            if let value = try? JSONParser.parse(bytes) {
                // Whatever parses re-encodes to text that parses to the same value.
                #expect(try JSONParser.parse(value.encoded()) == value)
            }
        }
    }
}

@Suite struct JSONStreamSplitterTests {
    @Test func severalValuesInOneChunkAndWhitespaceBetween() throws {
        var splitter = JSONStreamSplitter()
        splitter.append(Array(" {\"a\":\"}\"}\n\n[1,[2]]{\"b\":\"\\\"{\"}  \"s\" 12 ".utf8))
        var values: [String] = []
        while let value = try splitter.next() { values.append(String(decoding: value, as: UTF8.self)) }
        #expect(values == [#"{"a":"}"}"#, "[1,[2]]", #"{"b":"\"{"}"#, "\"s\"", "12"])
        #expect(splitter.bufferedByteCount == 0)  // the trailing space is dropped
    }

    @Test func blanksBetweenValuesHoldNoMemory() throws {
        var splitter = JSONStreamSplitter(maxValueBytes: 64)
        // Far more blanks than one value may have: none of them is kept.
        for _ in 0..<1000 {
            splitter.append([UInt8](repeating: 0x20, count: 1024) + [0x0A, 0x09, 0x0D])
            #expect(try splitter.next() == nil)
            #expect(splitter.bufferedByteCount == 0)
        }
        splitter.append(Array("{\"id\":1}".utf8))
        #expect(try splitter.next().map { String(decoding: $0, as: UTF8.self) } == "{\"id\":1}")
    }

    @Test func manySmallValuesFromOneLargeReadLeaveNothingBehind() throws {
        var splitter = JSONStreamSplitter()
        let one = Array(#"{"jsonrpc":"2.0","method":"spdk_get_version","id":1}"#.utf8)
        for _ in 0..<5000 { splitter.append(one) }
        var count = 0
        while let value = try splitter.next() {
            #expect(value == one)
            count += 1
        }
        #expect(count == 5000)
        #expect(splitter.bufferedByteCount == 0)
    }

    @Test func aRequestThatNeverEndsIsRefusedAtTheLimit() {
        var splitter = JSONStreamSplitter(maxValueBytes: 4096)
        splitter.append(Array(#"{"method":"x","params":{"name":""#.utf8))
        var refused = false
        for _ in 0..<100 where !refused {
            splitter.append([UInt8](repeating: UInt8(ascii: "a"), count: 1000))
            do { _ = try splitter.next() } catch { refused = true }
            #expect(splitter.bufferedByteCount <= 4096 + 1000)
        }
        #expect(refused)
    }

    @Test func dripFeedingByteByByteGivesTheSameValues() throws {
        let text = Array(#"{"jsonrpc":"2.0","method":"m","params":{"s":"a\"b}"},"id":1}{"id":2,"method":"n"}"#.utf8)
        var splitter = JSONStreamSplitter()
        var values: [[UInt8]] = []
        for byte in text {
            splitter.append([byte])
            while let value = try splitter.next() { values.append(value) }
        }
        #expect(values.count == 2)
        #expect(try JSONParser.parse(values[0])["id"] == .number("1"))
        #expect(try JSONParser.parse(values[1])["method"] == .string("n"))
    }

    @Test func oversizeAndStrayClosersAreErrors() {
        var small = JSONStreamSplitter(maxValueBytes: 16)
        small.append(Array("{\"a\":\"0123456789abcdef\"}".utf8))
        #expect(throws: JSONParseError.self) { _ = try small.next() }
        var stray = JSONStreamSplitter()
        stray.append(Array("}".utf8))
        #expect(throws: JSONParseError.self) { _ = try stray.next() }
    }
}
