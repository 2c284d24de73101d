/// Profile text with the expected positions of diagnostics marked inline by `⚠️`,
/// in the spirit of swift-format's MarkedText: the marker is removed and its line:column kept.
public struct MarkedText {
    public static let marker = "⚠️"

    public let text: String
    /// 1-based (line, column) of each marker, columns in Unicode scalars as libyaml counts them.
    public let marks: [(line: Int, column: Int)]

    public init(_ marked: String) {
        var text = String.UnicodeScalarView()
        var marks: [(Int, Int)] = []
        var line = 1, column = 1
        let scalars = Array(marked.unicodeScalars)
        var index = 0
        let markerScalars = Array(Self.marker.unicodeScalars)
        while index < scalars.count {
            if scalars[index] == markerScalars[0] {
                marks.append((line, column))
                index += 1
                if index < scalars.count, markerScalars.count > 1, scalars[index] == markerScalars[1] { index += 1 }
                continue
            }
            let scalar = scalars[index]
            text.append(scalar)
            if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
            index += 1
        }
        self.text = String(text)
        self.marks = marks
    }

    public var positions: [String] { marks.map { "\($0.line):\($0.column)" } }
}
