/// The caption tokenisation of the COCO caption evaluation: pycocoevalcap runs the Stanford
/// PTBTokenizer with `-lowerCase` and drops the tokens in its punctuation list
/// (`'' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ... ;`). Its rules for what captions hold
/// are written out here, quirks included, so that scores equal the toolkit's: brackets become
/// `-lrb-`, `-rsb-`, ... and, being lower case, are not in the dropped list; `?!` is one kept
/// token; `n't` and the clitics `'s 're 've 'll 'm 'd` are tokens; `$ # %` are split off and kept;
/// `,` and `:` between digits, `.` inside a word, hyphens inside a word and abbreviations such as
/// `mr.` or `u.s.` stay whole. Rarer Stanford rules (URLs, emoticons, `'n'`) are not copied.
public enum CaptionTokenizer {
    /// Tokens of one caption.
    public static func tokenize(_ text: String) -> [String] {
        var tokens: [String] = []
        for chunk in text.lowercased().split(whereSeparator: { $0.isWhitespace }) {
            for token in splitChunk(Array(chunk)) where !punctuation.contains(token) {
                tokens.append(token)
            }
        }
        return tokens
    }

    /// The tokens joined by single spaces, the form the scorers read.
    public static func normalize(_ text: String) -> String {
        tokenize(text).joined(separator: " ")
    }

    static let punctuation: Set<String> = ["''", "'", "``", "`", ".", "?", "!", ",", ":", "-", "--", "...", ";"]
    private static let brackets: [Character: String] = [
        "(": "-lrb-", ")": "-rrb-", "[": "-lsb-", "]": "-rsb-", "{": "-lcb-", "}": "-rcb-",
    ]
    // Split off as tokens of their own wherever they are.
    private static let standalone: Set<Character> = ["\"", ";", "$", "#", "%", "\u{201C}", "\u{201D}"]
    private static let clitics = ["n't", "'s", "'re", "'ve", "'ll", "'m", "'d"]
    private static let abbreviations: Set<String> = [
        "mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "etc", "inc", "ltd", "co", "mt", "prof",
    ]

    /// One whitespace-separated chunk: first the characters that always separate, then each
    /// remaining piece's edges and clitics.
    private static func splitChunk(_ chunk: [Character]) -> [String] {
        var out: [String] = []
        var piece: [Character] = []
        func flush() {
            if !piece.isEmpty { out += splitPiece(piece) }
            piece.removeAll()
        }
        var i = 0
        while i < chunk.count {
            let c = chunk[i]
            if let name = brackets[c] {
                flush(); out.append(name)
            } else if standalone.contains(c) {
                flush(); out.append(c == ";" || c == "$" || c == "#" || c == "%" ? String(c) : "''")
            } else if c == "?" || c == "!" {
                flush()
                var run = ""
                while i < chunk.count, chunk[i] == "?" || chunk[i] == "!" { run.append(chunk[i]); i += 1 }
                out.append(run)
                continue
            } else if c == "," || c == ":" {
                let before = i > 0 ? chunk[i - 1] : " "
                let after = i + 1 < chunk.count ? chunk[i + 1] : " "
                if before.isNumber && after.isNumber {
                    piece.append(c)
                } else {
                    flush(); out.append(String(c))
                }
            } else {
                piece.append(c)
            }
            i += 1
        }
        flush()
        return out
    }

    private static func splitPiece(_ piece: [Character]) -> [String] {
        var chars = piece
        var leading: [String] = []
        var trailing: [String] = []
        // Leading quotes and dashes.
        while let first = chars.first, first == "'" || first == "`" || first == "-" || first == "\u{2018}" {
            if first == "-" {
                var run = ""
                while let c = chars.first, c == "-" { run.append(c); chars.removeFirst() }
                leading.append(run)
            } else {
                leading.append("`")
                chars.removeFirst()
            }
        }
        // Trailing dots, quotes and dashes.
        while let last = chars.last {
            if last == "." {
                var dots = 0
                while let c = chars.last, c == "." { dots += 1; chars.removeLast() }
                if dots == 1 && isAbbreviation(chars) {
                    chars.append(".")
                    break
                }
                trailing.insert(dots == 1 ? "." : "...", at: 0)
            } else if last == "'" || last == "\u{2019}" {
                chars.removeLast()
                trailing.insert("'", at: 0)
            } else if last == "-" {
                var run = ""
                while let c = chars.last, c == "-" { run.append(c); chars.removeLast() }
                trailing.insert(run, at: 0)
            } else {
                break
            }
        }
        var middle: [String] = []
        if !chars.isEmpty {
            let word = String(chars)
            if let split = splitInside(word) {
                for part in split { middle += splitPiece(Array(part)) }
            } else if let clitic = clitics.first(where: { word.count > $0.count && word.hasSuffix($0) }) {
                middle = [String(word.dropLast(clitic.count)), clitic]
            } else {
                middle = [word]
            }
        }
        return leading + middle + trailing
    }

    /// "yes--no" and "wait...what" split at the run; nil when the word has neither.
    private static func splitInside(_ word: String) -> [String]? {
        for separator in ["...", "--"] {
            if let range = word.range(of: separator) {
                let before = String(word[..<range.lowerBound])
                let after = String(word[range.upperBound...])
                var parts: [String] = []
                if !before.isEmpty { parts.append(before) }
                parts.append(separator)
                if !after.isEmpty { parts.append(after) }
                return parts
            }
        }
        return nil
    }

    /// A word before a final "." that keeps it: a known title or "u.s"-like letters with dots.
    private static func isAbbreviation(_ chars: [Character]) -> Bool {
        let word = String(chars)
        if abbreviations.contains(word) { return true }
        guard chars.contains("."), chars.allSatisfy({ $0 == "." || $0.isLetter }) else { return false }
        // Single letters separated by dots: u.s, e.g, a.m
        return word.split(separator: ".").allSatisfy { $0.count == 1 }
    }
}
