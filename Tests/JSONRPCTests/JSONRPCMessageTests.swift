import JSONRPC
import Testing

private func request(_ text: String) throws -> Result<JSONRPCRequest, JSONRPCRequest.RequestFailure> {
    JSONRPCRequest.decode(try JSONParser.parse(Array(text.utf8)))
}

@Suite struct JSONRPCMessageTests {
    @Test func validRequests() throws {
        let full = try request(#"{"jsonrpc":"2.0","method":"bdev_get_bdevs","params":{"name":"a"},"id":7}"#).get()
        #expect(full.method == "bdev_get_bdevs" && full.id == .number("7") && !full.isNotification)
        #expect(full.params?["name"] == .string("a"))
        let nullParams = try request(#"{"method":"spdk_get_version","params":null,"id":"x"}"#).get()
        #expect(nullParams.params == nil && nullParams.id == .string("x"))
        let notification = try request(#"{"jsonrpc":"2.0","method":"m"}"#).get()
        #expect(notification.isNotification)
        #expect(try request(#"{"method":"m","id":null}"#).get().isNotification)
    }

    @Test(arguments: [
        #"[{"method":"m","id":1}]"#, #""m""#, #"{"id":1}"#, #"{"method":5,"id":1}"#, #"{"method":"m","id":[1]}"#,
        #"{"method":"m","id":true}"#, #"{"method":"m","jsonrpc":"1.0"}"#, #"{"method":"m","params":5}"#,
        #"{"method":"m","extra":1}"#, #"{"method":"m","method":"n"}"#,
    ])
    func invalidRequests(text: String) throws {
        guard case .failure(let failure) = try request(text) else {
            Issue.record("accepted \(text)")
            return
        }
        #expect(failure.error.code == -32600)
    }

    @Test func missingMethodRepliesWithTheId() throws {
        guard case .failure(let failure) = try request(#"{"id":42}"#) else { return }
        #expect(failure.id == .number("42"))
    }

    @Test func responsesMatchSPDKByteForByte() {
        let result = JSONRPCResponse.result(id: .number("1.0"), .object([("name", .string("Malloc0")), ("ok", .bool(true))]))
        #expect(String(decoding: result, as: UTF8.self) == "{\"jsonrpc\":\"2.0\",\"id\":1.0,\"result\":{\"name\":\"Malloc0\",\"ok\":true}}\n")
        let error = JSONRPCResponse.error(id: nil, JSONRPCError(code: -19, message: "No such device"))
        #expect(String(decoding: error, as: UTF8.self) == "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-19,\"message\":\"No such device\"}}\n")
    }
}
