extension JSONValue {
    /// Indented text, as rpc.py prints results (two spaces, members in order).
    public func prettyPrinted(indent: Int = 0) -> String {
        let pad = String(repeating: " ", count: indent)
        let inner = String(repeating: " ", count: indent + 2)
        switch self {
        case .array(let elements) where !elements.isEmpty:
            return "[\n" + elements.map { inner + $0.prettyPrinted(indent: indent + 2) }.joined(separator: ",\n") + "\n\(pad)]"
        case .object(let members) where !members.isEmpty:
            return "{\n"
                + members.map { inner + String(decoding: JSONValue.string($0.key).encoded(), as: UTF8.self) + ": " + $0.value.prettyPrinted(indent: indent + 2) }
                .joined(separator: ",\n") + "\n\(pad)}"
        default:
            return String(decoding: encoded(), as: UTF8.self)
        }
    }
}
