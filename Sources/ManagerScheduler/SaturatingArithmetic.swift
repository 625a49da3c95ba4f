// Sizes from the store are int64s anyone could have written: space arithmetic saturates at
// Int64's limits rather than trapping.

extension Int64 {
    func plus(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    func minus(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }

    /// `self × percentage / 100`: exact while the product fits, else approximated and saturated.
    func percent(_ percentage: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: percentage)
        if !overflow { return product / 100 }
        let approximate = Double(self) * Double(percentage) / 100
        if approximate >= Double(Int64.max) { return .max }
        if approximate <= Double(Int64.min) { return .min }
        return Int64(approximate)
    }
}
