// Kubernetes' name rules, as Longhorn applies them: resource names are DNS-1123 labels or
// subdomains, tags are qualified names. The error texts are Kubernetes' own (clients match them).

/// Name limits.
public enum NameLimits {
    /// A DNS-1123 label (one DNS name component).
    public static let dns1123LabelMaximumLength = 63
    /// A DNS-1123 subdomain (a full DNS name).
    public static let dns1123SubdomainMaximumLength = 253
    /// The name part of a qualified name is a label-sized component.
    public static let qualifiedNameMaximumLength = 63
    /// Longhorn keeps volume names short enough for the names derived from them (`<vol>-r-<8 hex>`,
    /// `<vol>-e-<n>`, Kubernetes object names) to remain valid.
    public static let volumeNameMaximumLength = 40
}

/// A name that breaks Kubernetes' or Longhorn's naming rules.
public struct NameValidationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum NameValidation {
    /// Why `value` is not a DNS-1123 label (empty when it is one).
    public static func dns1123LabelErrors(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > NameLimits.dns1123LabelMaximumLength {
            errors.append("must be no more than \(NameLimits.dns1123LabelMaximumLength) characters")
        }
        if !isLabel(value) {
            errors.append(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
            )
        }
        return errors
    }

    /// Why `value` is not a DNS-1123 subdomain (empty when it is one).
    public static func dns1123SubdomainErrors(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > NameLimits.dns1123SubdomainMaximumLength {
            errors.append("must be no more than \(NameLimits.dns1123SubdomainMaximumLength) characters")
        }
        if !value.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(isLabel) {
            errors.append(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
            )
        }
        return errors
    }

    /// Why `value` is not a qualified name (`name` or `prefix/name`, prefix a DNS-1123 subdomain,
    /// name alphanumerics with `-`, `_`, `.` inside); empty when it is one.
    public static func qualifiedNameErrors(_ value: String) -> [String] {
        let nameRule =
            "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        let example =
            "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        let name: Substring
        var errors: [String] = []
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            name = parts[1]
            if parts[0].isEmpty {
                errors.append("prefix part must be non-empty")
            } else {
                errors += dns1123SubdomainErrors(String(parts[0])).map { "prefix part " + $0 }
            }
        default:
            return [
                "a qualified name \(nameRule) \(example) with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ]
        }
        if name.isEmpty {
            errors.append("name part must be non-empty")
        } else if name.utf8.count > NameLimits.qualifiedNameMaximumLength {
            errors.append("name part must be no more than \(NameLimits.qualifiedNameMaximumLength) characters")
        }
        if !isQualifiedNamePart(name) {
            errors.append("name part \(nameRule) \(example)")
        }
        return errors
    }

    /// Longhorn's tags (node and disk tags, selectors): each must be a qualified name; the result
    /// holds each tag once, sorted. Every invalid tag is reported (once), in one error.
    public static func validateTags(_ tags: [String]) throws(NameValidationError) -> [String] {
        var errors: [String] = []
        var accepted = Set<String>()
        var seen = Set<String>()
        for tag in tags where seen.insert(tag).inserted {
            let tagErrors = qualifiedNameErrors(tag)
            if tagErrors.isEmpty {
                accepted.insert(tag)
            } else {
                errors.append("tag \"\(tag)\": " + tagErrors.joined(separator: "; "))
            }
        }
        guard errors.isEmpty else {
            throw NameValidationError(
                "at least one error encountered while validating tags: " + errors.joined(separator: "; "))
        }
        return accepted.sorted()
    }

    /// A volume name: a DNS-1123 label of at most 40 characters.
    public static func validateVolumeName(_ name: String) throws(NameValidationError) {
        var errors = dns1123LabelErrors(name)
        if name.utf8.count > NameLimits.volumeNameMaximumLength {
            errors.append("must be no more than \(NameLimits.volumeNameMaximumLength) characters")
        }
        guard errors.isEmpty else {
            throw NameValidationError("invalid volume name \"\(name)\": " + errors.joined(separator: "; "))
        }
    }

    private static func isLabel(_ value: some StringProtocol) -> Bool {
        let bytes = Array(value.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        return isLowerAlphanumeric(first) && isLowerAlphanumeric(last)
            && bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isQualifiedNamePart(_ value: Substring) -> Bool {
        let bytes = Array(value.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        return isAlphanumeric(first) && isAlphanumeric(last)
            && bytes.allSatisfy {
                isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
            }
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLowerAlphanumeric(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }
}
