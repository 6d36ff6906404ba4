import Foundation

/// The sample grid: one card per image with its thumbnail (a data: URI), key, source and every
/// text with scores and decision.
extension HTMLPage {
    mutating func samples(_ items: [SampleItem]) {
        sectionStart(.samples)
        if items.isEmpty {
            add("<p class=\"empty\">No samples.</p>")
        } else {
            add("<div class=\"grid\">")
            for item in items { card(item) }
            add("</div>")
        }
        add("</section>")
    }

    mutating func card(_ item: SampleItem) {
        add("<article class=\"card\">")
        cardHead(item)
        if item.texts.isEmpty {
            add("<p class=\"empty\" style=\"padding: 0 10px\">No texts.</p>")
        } else {
            add("<table class=\"texts\">")
            add("<thead><tr><th scope=\"col\">Origin and text</th><th scope=\"col\" class=\"num\">ITM</th><th scope=\"col\" class=\"num\">ITC</th><th scope=\"col\">Decision</th></tr></thead>")
            add("<tbody>")
            for text in item.texts {
                let decision = text.decision?.rawValue ?? "pending"
                let reason = text.reason.map { "<span class=\"reason\">\(e($0))</span>" } ?? ""
                add("<tr class=\"\(decision)\"><td class=\"text\"><span class=\"badge \(text.origin.rawValue)\">\(text.origin.rawValue)</span> <span class=\"caption\">\(e(text.text))</span>\(reason)</td><td class=\"num\">\(Format.score(text.itm))</td><td class=\"num\">\(Format.score(text.itc))</td><td><span class=\"decision \(decision)\">\(decision)</span></td></tr>")
            }
            add("</tbody>")
            add("</table>")
        }
        add("</article>")
    }

    /// A card's head: the thumbnail (or its absence), the key and the source, then `notes`
    /// (already escaped) as more lines under them.
    mutating func cardHead(_ item: SampleItem, notes: [String] = []) {
        add("<div class=\"card-head\">")
        if let thumbnail = item.thumbnail, !thumbnail.isEmpty {
            add("<img class=\"thumb\" alt=\"image \(e(item.key))\" src=\"\(dataURI(thumbnail))\">")
        } else {
            add("<div class=\"thumb nothumb\">no thumbnail</div>")
        }
        let lines = notes.map { "<p class=\"source\">\($0)</p>" }.joined()
        add("<div class=\"card-id\"><h3 class=\"mono\">\(e(item.key))</h3><p class=\"source\">\(e(item.source))</p>\(lines)</div>")
        add("</div>")
    }
}

/// `data:` URI of an encoded image; the type is taken from its magic bytes (JPEG otherwise).
func dataURI(_ bytes: [UInt8]) -> String {
    let type: String
    if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) {
        type = "image/png"
    } else if bytes.count >= 12 && bytes.starts(with: Array("RIFF".utf8)) && Array(bytes[8..<12]) == Array("WEBP".utf8) {
        type = "image/webp"
    } else if bytes.starts(with: Array("GIF8".utf8)) {
        type = "image/gif"
    } else {
        type = "image/jpeg"
    }
    return "data:\(type);base64,\(Data(bytes).base64EncodedString())"
}
