// Sizes given as Kubernetes quantities ("10Gi", "1G", "512Mi", "1.5Gi", "1e9", "1073741824"),
// turned into whole bytes. Grammar (Kubernetes' resource.Quantity):
//   quantity := sign? number suffix
//   number   := digits | digits "." digits? | "." digits
//   suffix   := "" | binary (Ki Mi Gi Ti Pi Ei) | decimal (n u m k M G T P E) | ("e"|"E") sign? digits
// A fraction of a byte rounds up, as Kubernetes' Value() does. The arithmetic is exact (128-bit):
// no floating point, so 8Ei (one more than Int64.max) is too large rather than rounded down.

/// A size that is not a Kubernetes quantity of bytes.
public enum QuantityError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    /// The text is not a number followed by a suffix.
    case malformed(String)
    case unknownSuffix(quantity: String, suffix: String)
    case negative(String)
    /// More than Int64.max bytes.
    case tooLarge(String)

    public var description: String {
        switch self {
        case .empty: "a size must not be empty"
        case .malformed(let text):
            "\"\(text)\" is not a quantity: expected digits with an optional fraction and suffix (e.g. 10Gi, 512Mi, 1G, 1e9, 1073741824)"
        case .unknownSuffix(let text, let suffix):
            "\"\(text)\" has an unknown suffix \"\(suffix)\": expected one of Ki, Mi, Gi, Ti, Pi, Ei, n, u, m, k, M, G, T, P, E, or an exponent e<n>"
        case .negative(let text): "\"\(text)\" is negative: a size must be at least 0"
        case .tooLarge(let text): "\"\(text)\" is larger than \(Int64.max) bytes"
        }
    }
}

public enum Quantity {
    /// The number of bytes `text` stands for; a fraction of a byte rounds up.
    public static func parseBytes(_ text: String) throws(QuantityError) -> Int64 {
        guard !text.isEmpty else { throw .empty }
        var rest = Substring(text)
        var negative = false
        if let sign = rest.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        let integerDigits = rest.prefix(while: isDigit)
        rest = rest.dropFirst(integerDigits.count)
        var fractionDigits = Substring()
        if rest.first == "." {
            rest = rest.dropFirst()
            fractionDigits = rest.prefix(while: isDigit)
            rest = rest.dropFirst(fractionDigits.count)
        }
        guard !integerDigits.isEmpty || !fractionDigits.isEmpty else { throw .malformed(text) }
        // Trailing zeros of the fraction change nothing; dropping them keeps the mantissa short.
        while fractionDigits.last == "0" { fractionDigits = fractionDigits.dropLast() }
        let (powerOfTwo, powerOfTen) = try scale(ofSuffix: rest, in: text)

        // value = mantissa × 2^powerOfTwo × 10^(powerOfTen − fraction digits)
        let significant = (integerDigits + fractionDigits).drop { $0 == "0" }
        guard significant.count <= 38, let mantissa = UInt128(significant.isEmpty ? "0" : String(significant)) else {
            throw .tooLarge(text)
        }
        if mantissa == 0 { return 0 }
        if negative { throw .negative(text) }
        let (shifted, shiftOverflow) = mantissa.multipliedReportingOverflow(by: UInt128(1) << powerOfTwo)
        guard !shiftOverflow else { throw .tooLarge(text) }
        let exponent = powerOfTen - fractionDigits.count
        let bytes: UInt128
        if exponent >= 0 {
            guard let multiplier = powerOf10(exponent) else { throw .tooLarge(text) }
            let (product, overflow) = shifted.multipliedReportingOverflow(by: multiplier)
            guard !overflow else { throw .tooLarge(text) }
            bytes = product
        } else if let divisor = powerOf10(-exponent) {
            let (quotient, remainder) = shifted.quotientAndRemainder(dividingBy: divisor)
            bytes = remainder == 0 ? quotient : quotient + 1
        } else {
            bytes = 1  // A positive amount below 10^-38 of the unit still rounds up to one byte.
        }
        guard bytes <= UInt128(Int64.max) else { throw .tooLarge(text) }
        return Int64(bytes)
    }

    private static func isDigit(_ character: Character) -> Bool {
        character.isASCII && character.isNumber
    }

    /// The suffix's power of two and power of ten.
    private static func scale(ofSuffix suffix: Substring, in text: String) throws(QuantityError) -> (Int, Int) {
        switch suffix {
        case "": return (0, 0)
        case "Ki": return (10, 0)
        case "Mi": return (20, 0)
        case "Gi": return (30, 0)
        case "Ti": return (40, 0)
        case "Pi": return (50, 0)
        case "Ei": return (60, 0)
        case "n": return (0, -9)
        case "u": return (0, -6)
        case "m": return (0, -3)
        case "k": return (0, 3)
        case "M": return (0, 6)
        case "G": return (0, 9)
        case "T": return (0, 12)
        case "P": return (0, 15)
        case "E": return (0, 18)
        default: break
        }
        guard let marker = suffix.first, marker == "e" || marker == "E" else {
            throw .unknownSuffix(quantity: text, suffix: String(suffix))
        }
        var digits = suffix.dropFirst()
        var sign = 1
        if let first = digits.first, first == "+" || first == "-" {
            sign = first == "-" ? -1 : 1
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy(isDigit) else {
            throw .unknownSuffix(quantity: text, suffix: String(suffix))
        }
        // Beyond ±999 every non-zero quantity is too large or rounds to one byte either way.
        let significant = digits.drop { $0 == "0" }
        let magnitude = significant.count > 3 ? 999 : Int(significant) ?? 0
        return (0, sign * magnitude)
    }

    /// 10^exponent, nil when it does not fit 128 bits.
    private static func powerOf10(_ exponent: Int) -> UInt128? {
        guard exponent <= 38 else { return nil }
        var result: UInt128 = 1
        for _ in 0..<exponent { result *= 10 }
        return result
    }
}
