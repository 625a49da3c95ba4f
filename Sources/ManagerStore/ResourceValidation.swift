// What the store accepts: kinds, names, labels and documents are checked before any write, so a
// bad one gets a clear `invalid` error and changes nothing.

import Foundation
import ManagerModel

enum ResourceValidation {
    /// A kind is Longhorn's resource name in lower camel case: a letter, then letters and digits.
    static func check(kind: ResourceKind) throws(ResourceStoreError) {
        let text = kind.rawValue
        guard !text.isEmpty else { throw .invalid("the resource kind is empty") }
        guard text.utf8.count <= StoreLimits.kindLengthMax else {
            throw .invalid("resource kind \"\(text.prefix(80))…\" is longer than \(StoreLimits.kindLengthMax) characters")
        }
        let bytes = Array(text.utf8)
        guard isLetter(bytes[0]), bytes.allSatisfy({ isLetter($0) || isDigit($0) }) else {
            throw .invalid("resource kind \"\(text)\" must be letters and digits, starting with a letter")
        }
    }

    /// A name is a Kubernetes object name: a DNS subdomain of at most 253 characters, lower case
    /// letters, digits, '-' and '.', starting and ending with a letter or digit.
    static func check(name: String, of kind: ResourceKind) throws(ResourceStoreError) {
        guard !name.isEmpty else { throw .invalid("\(kind): the resource name is empty") }
        guard name.utf8.count <= StoreLimits.nameLengthMax else {
            throw .invalid("\(kind) \"\(name.prefix(80))…\": the name is longer than \(StoreLimits.nameLengthMax) characters")
        }
        guard isDNSSubdomain(Array(name.utf8)) else {
            throw .invalid(
                "\(kind) \"\(name)\": a name must be lower case letters, digits, '-' and '.', starting and ending with a letter or digit"
            )
        }
    }

    /// Labels follow Kubernetes: a key is an optional DNS-subdomain prefix and '/', then a name
    /// of at most 63 letters, digits, '-', '_' and '.', starting and ending alphanumeric; a value
    /// is empty or such a name.
    static func check(labels: [String: String], of kind: ResourceKind, name: String) throws(ResourceStoreError) {
        guard labels.count <= StoreLimits.labelCountMax else {
            throw .invalid("\(kind) \"\(name)\": \(labels.count) labels, more than \(StoreLimits.labelCountMax)")
        }
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            guard isLabelKey(key) else {
                throw .invalid("\(kind) \"\(name)\": label key \"\(key.prefix(300))\" is not a valid label key")
            }
            guard value.isEmpty || isLabelName(Array(value.utf8)) else {
                throw .invalid("\(kind) \"\(name)\": label \"\(key)\" has an invalid value \"\(value.prefix(100))\"")
            }
        }
    }

    /// A document is a JSON object of at most `documentBytesMax` bytes.
    static func check(document: Data, of kind: ResourceKind, name: String) throws(ResourceStoreError) {
        guard document.count <= StoreLimits.documentBytesMax else {
            throw .invalid(
                "\(kind) \"\(name)\": the document is \(document.count) bytes, more than the \(StoreLimits.documentBytesMax) allowed"
            )
        }
        let parsed = try? JSONSerialization.jsonObject(with: document)
        guard parsed is [String: Any] else {
            throw .invalid("\(kind) \"\(name)\": the document is not a JSON object")
        }
    }

    /// Checks a whole write.
    static func check(
        kind: ResourceKind, name: String, labels: [String: String], document: Data
    ) throws(ResourceStoreError) {
        try check(kind: kind)
        try check(name: name, of: kind)
        try check(labels: labels, of: kind, name: name)
        try check(document: document, of: kind, name: name)
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || isDigit(byte)
    }

    private static func isDNSSubdomain(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first, let last = bytes.last else { return false }
        return isLowerAlphanumeric(first) && isLowerAlphanumeric(last)
            && bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
    }

    private static func isLabelName(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first, let last = bytes.last, bytes.count <= StoreLimits.labelNameLengthMax else {
            return false
        }
        let alphanumeric = { (byte: UInt8) in isLetter(byte) || isDigit(byte) }
        return alphanumeric(first) && alphanumeric(last)
            && bytes.allSatisfy {
                alphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
            }
    }

    private static func isLabelKey(_ key: String) -> Bool {
        let bytes = Array(key.utf8)
        guard let slash = bytes.firstIndex(of: UInt8(ascii: "/")) else { return isLabelName(bytes) }
        let prefix = Array(bytes[..<slash])
        let name = Array(bytes[(slash + 1)...])
        return prefix.count <= StoreLimits.labelPrefixLengthMax && isDNSSubdomain(prefix) && isLabelName(name)
    }
}
