/// Escapes text for HTML element content and for quoted attribute values alike.
///
/// `&`, `<`, `>`, `"` and `'` become character references, so no text can close an element,
/// open a tag or leave an attribute. Control characters other than tab, newline and carriage
/// return are not allowed in HTML and become U+FFFD.
public func htmlEscape(_ text: String) -> String {
    var out = String()
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
        default:
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                out += "\u{FFFD}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out
}
