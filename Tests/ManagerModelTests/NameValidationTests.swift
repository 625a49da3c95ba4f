import Foundation
import ManagerModel
import Testing

@Suite struct NameValidationTests {
    @Test func dns1123Labels() {
        for good in ["a", "pvc-1", "0abc", String(repeating: "a", count: 63)] {
            #expect(NameValidation.dns1123LabelErrors(good).isEmpty, "\(good)")
        }
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", "é"] {
            #expect(NameValidation.dns1123LabelErrors(bad).count == 1, "\(bad)")
        }
        #expect(
            NameValidation.dns1123LabelErrors(String(repeating: "a", count: 64)) == [
                "must be no more than 63 characters"
            ])
    }

    @Test func dns1123Subdomains() {
        #expect(NameValidation.dns1123SubdomainErrors("longhorn.io").isEmpty)
        #expect(NameValidation.dns1123SubdomainErrors("node.longhorn.io").isEmpty)
        for bad in ["", ".io", "a..b", "a.", "Longhorn.io"] {
            #expect(
                NameValidation.dns1123SubdomainErrors(bad).first?.hasPrefix("a lowercase RFC 1123 subdomain") == true,
                "\(bad)")
        }
    }

    @Test func qualifiedNames() {
        for good in ["ssd", "SSD", "fast_disk", "a.b-c", "example.com/MyName", String(repeating: "x", count: 63)] {
            #expect(NameValidation.qualifiedNameErrors(good).isEmpty, "\(good)")
        }
        #expect(NameValidation.qualifiedNameErrors("/ssd") == ["prefix part must be non-empty"])
        #expect(NameValidation.qualifiedNameErrors("a/b/c").first?.hasPrefix("a qualified name must consist") == true)
        #expect(
            NameValidation.qualifiedNameErrors("Bad_Prefix/ssd").first?.hasPrefix(
                "prefix part a lowercase RFC 1123 subdomain") == true)
        #expect(NameValidation.qualifiedNameErrors("example.com/").first == "name part must be non-empty")
        #expect(
            NameValidation.qualifiedNameErrors(String(repeating: "x", count: 64)) == [
                "name part must be no more than 63 characters"
            ])
        #expect(
            NameValidation.qualifiedNameErrors("-ssd").first?.hasPrefix("name part must consist of alphanumeric")
                == true)
        #expect(NameValidation.qualifiedNameErrors("ss d").count == 1)
    }

    @Test func tagsAreDeduplicatedAndSorted() throws {
        #expect(try NameValidation.validateTags(["ssd", "fast", "ssd", "Archive"]) == ["Archive", "fast", "ssd"])
        #expect(try NameValidation.validateTags([]) == [])
    }

    @Test func invalidTagsFailTogether() throws {
        let error = try #require(
            #expect(throws: NameValidationError.self) {
                try NameValidation.validateTags(["ssd", "bad tag", "-x", "bad tag"])
            })
        #expect(error.message.hasPrefix("at least one error encountered while validating tags: "))
        #expect(error.message.contains("tag \"bad tag\": name part must consist"))
        #expect(error.message.contains("tag \"-x\""))
        #expect(error.message.components(separatedBy: "bad tag").count == 2, "a repeated tag is reported once")
    }

    @Test func volumeNames() throws {
        try NameValidation.validateVolumeName("pvc-0123456789abcdef")
        try NameValidation.validateVolumeName(String(repeating: "v", count: 40))
        #expect(throws: NameValidationError.self) {
            try NameValidation.validateVolumeName(String(repeating: "v", count: 41))
        }
        #expect(throws: NameValidationError.self) { try NameValidation.validateVolumeName("Vol") }
        #expect(throws: NameValidationError.self) { try NameValidation.validateVolumeName("") }
    }

    @Test func limitsRelate() {
        #expect(NameLimits.volumeNameMaximumLength + "-r-12345678".count <= NameLimits.dns1123LabelMaximumLength)
        #expect(NameLimits.dns1123LabelMaximumLength < NameLimits.dns1123SubdomainMaximumLength)
    }
}
