// Aligned text tables in the shape kubectl prints: upper-case headers, every column as wide as
// its widest cell, three spaces between columns, no trailing blanks.

public struct TextTable: Sendable, Equatable {
    public var headers: [String]
    public var rows: [[String]]

    public init(headers: [String], rows: [[String]] = []) {
        self.headers = headers
        self.rows = rows
    }

    /// The table as lines ending in a newline; a row shorter than the headers gets empty cells.
    public var rendered: String {
        let lines = [headers] + rows.map { row in (0..<headers.count).map { $0 < row.count ? row[$0] : "" } }
        var widths = [Int](repeating: 0, count: headers.count)
        for line in lines {
            for (column, cell) in line.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        var output = ""
        for line in lines {
            var text = ""
            for (column, cell) in line.enumerated() {
                let isLast = column == line.count - 1
                text += isLast ? cell : cell + String(repeating: " ", count: widths[column] - cell.count + 3)
            }
            while text.hasSuffix(" ") { text.removeLast() }
            output += text + "\n"
        }
        return output
    }
}
