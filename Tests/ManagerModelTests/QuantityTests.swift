import ManagerModel
import Testing

@Suite struct QuantityTests {
    @Test(
        arguments: [
            ("1073741824", 1_073_741_824), ("10Gi", 10_737_418_240), ("1G", 1_000_000_000), ("512Mi", 536_870_912),
            ("1Ki", 1024), ("2Ti", 2_199_023_255_552), ("1Pi", 1 << 50), ("7Ei", 7 << 60), ("1k", 1000),
            ("3M", 3_000_000), ("1T", 1_000_000_000_000), ("1P", 1_000_000_000_000_000),
            ("9E", 9_000_000_000_000_000_000), ("1.5Gi", 1_610_612_736), ("0.5Ki", 512), (".5Ki", 512),
            ("1.Ki", 1024), ("1e9", 1_000_000_000), ("1E3", 1000), ("25e-1", 3), ("1500m", 2), ("1m", 1),
            ("1n", 1), ("1u", 1), ("0", 0), ("0Gi", 0), ("-0", 0), ("+2Mi", 2_097_152), ("000012", 12),
            ("1.000000000000000000000000000000000000000000Gi", 1 << 30), ("1e-999", 1), ("0e999", 0),
            ("9223372036854775807", Int64.max), ("1e+3", 1000),
        ] as [(String, Int64)])
    func parses(text: String, bytes: Int64) throws {
        #expect(try Quantity.parseBytes(text) == bytes)
    }

    @Test(arguments: [
        ("", QuantityError.empty),
        ("Gi", .malformed("Gi")),
        (".", .malformed(".")),
        ("-", .malformed("-")),
        (" 1Gi", .malformed(" 1Gi")),
        ("1 Gi", .unknownSuffix(quantity: "1 Gi", suffix: " Gi")),
        ("1gi", .unknownSuffix(quantity: "1gi", suffix: "gi")),
        ("1GB", .unknownSuffix(quantity: "1GB", suffix: "GB")),
        ("1Gi ", .unknownSuffix(quantity: "1Gi ", suffix: "Gi ")),
        ("1e", .unknownSuffix(quantity: "1e", suffix: "e")),
        ("1e+", .unknownSuffix(quantity: "1e+", suffix: "e+")),
        ("1.5.5", .unknownSuffix(quantity: "1.5.5", suffix: ".5")),
        ("-1Gi", .negative("-1Gi")),
        ("-1m", .negative("-1m")),
        ("8Ei", .tooLarge("8Ei")),
        ("9223372036854775808", .tooLarge("9223372036854775808")),
        ("10E", .tooLarge("10E")),
        ("1e19", .tooLarge("1e19")),
        ("1e99999", .tooLarge("1e99999")),
        ("123456789012345678901234567890123456789", .tooLarge("123456789012345678901234567890123456789")),
    ])
    func rejects(text: String, error: QuantityError) {
        #expect(throws: error) { try Quantity.parseBytes(text) }
    }

    @Test func messagesArePrecise() {
        #expect(
            QuantityError.unknownSuffix(quantity: "1GB", suffix: "GB").description.hasPrefix(
                #""1GB" has an unknown suffix "GB""#))
        #expect(QuantityError.tooLarge("8Ei").description == #""8Ei" is larger than 9223372036854775807 bytes"#)
        #expect(QuantityError.negative("-1").description.contains("must be at least 0"))
    }
}
