import Foundation

/// Best-of-N: for a few images, every synthetic caption the filter ranked, best first, with
/// its ITM and ITC scores, the ranking score, its rank and whether it was kept (or why not).
extension HTMLPage {
    mutating func candidates(_ items: [SampleItem]) {
        sectionStart(.candidates)
        add("<p class=\"hint\">Each image's synthetic captions, ranked against each other; the filter's <span class=\"mono\">keep_top</span> keeps the best of those that pass the threshold.</p>")
        add("<div class=\"grid\">")
        for item in items { candidateCard(item) }
        add("</div>")
        add("</section>")
    }

    mutating func candidateCard(_ item: SampleItem) {
        add("<article class=\"card\">")
        cardHead(item, notes: ["\(item.texts.count) candidates"])
        let by = item.texts.lazy.compactMap(\.rankBy).first ?? "rank"
        add("<table class=\"texts\">")
        add("<thead><tr><th scope=\"col\" class=\"num\">Rank</th><th scope=\"col\">Caption</th><th scope=\"col\" class=\"num\">ITM</th><th scope=\"col\" class=\"num\">ITC</th><th scope=\"col\" class=\"num\">Score (\(e(by)))</th><th scope=\"col\">Decision</th></tr></thead>")
        add("<tbody>")
        for text in item.texts {
            let decision = text.decision?.rawValue ?? "pending"
            let reason = text.reason.map { "<span class=\"reason\">\(e($0))</span>" } ?? ""
            add("<tr class=\"\(decision)\"><td class=\"num\">\(text.rank.map(String.init) ?? "–")</td><td class=\"text\"><span class=\"caption\">\(e(text.text))</span>\(reason)</td><td class=\"num\">\(Format.score(text.itm))</td><td class=\"num\">\(Format.score(text.itc))</td><td class=\"num\">\(Format.score(text.rankScore))</td><td><span class=\"decision \(decision)\">\(decision)</span></td></tr>")
        }
        add("</tbody>")
        add("</table>")
        add("</article>")
    }
}
