/// Splits a SQL script into single statements, because postgres-nio speaks only the extended query
/// protocol, which takes one statement per message. Understands quoted strings and identifiers,
/// dollar-quoted bodies (`$$ ... $$`, `$tag$ ... $tag$`), line comments and block comments.
public enum SQLScript {
    public static func statements(in script: String) -> [String] {
        let characters = Array(script.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var index = 0

        func flush() {
            let statement = String(current).trimmingWhitespace()
            if !statement.isEmpty { statements.append(statement) }
            current = String.UnicodeScalarView()
        }
        func starts(with text: [Unicode.Scalar], at position: Int) -> Bool {
            position + text.count <= characters.count && Array(characters[position..<position + text.count]) == text
        }

        while index < characters.count {
            let character = characters[index]
            switch character {
            case "-" where starts(with: ["-", "-"], at: index):
                while index < characters.count, characters[index] != "\n" { index += 1 }
            case "/" where starts(with: ["/", "*"], at: index):
                index += 2
                while index < characters.count, !starts(with: ["*", "/"], at: index) { index += 1 }
                index += 2
            case "'", "\"":
                current.append(character)
                index += 1
                while index < characters.count {
                    current.append(characters[index])
                    if characters[index] == character {
                        // A doubled quote is an escaped quote inside the literal.
                        if index + 1 < characters.count, characters[index + 1] == character {
                            current.append(characters[index + 1])
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    index += 1
                }
            case "$":
                var end = index + 1
                while end < characters.count,
                    characters[end] == "_" || characters[end].properties.isAlphabetic
                        || ("0"..."9").contains(characters[end])
                {
                    end += 1
                }
                guard end < characters.count, characters[end] == "$" else {
                    current.append(character)
                    index += 1
                    continue
                }
                let tag = Array(characters[index...end])
                current.append(contentsOf: tag)
                index = end + 1
                while index < characters.count, !starts(with: tag, at: index) {
                    current.append(characters[index])
                    index += 1
                }
                if index < characters.count {
                    current.append(contentsOf: tag)
                    index += tag.count
                }
            case ";":
                flush()
                index += 1
            default:
                current.append(character)
                index += 1
            }
        }
        flush()
        return statements
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
