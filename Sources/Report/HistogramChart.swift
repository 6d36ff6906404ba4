/// A histogram as an inline SVG bar chart with the threshold marked, followed by the same
/// counts as a table (for screen readers, copying and print).
extension HTMLPage {
    mutating func histogram(_ h: ScoreHistogram, id: String) {
        let colour = h.origin?.rawValue ?? "neutral"
        let total = h.total
        add("<figure aria-labelledby=\"\(id)-c\">")
        add("<figcaption id=\"\(id)-c\">\(e(h.title))</figcaption>")
        var summary = "n = \(Format.count(total))"
        if let threshold = h.threshold {
            summary += " · threshold \(Format.fixed(threshold, 3))"
            if let below = h.belowThreshold {
                let share = total > 0 ? Double(below) / Double(total) : nil
                summary += " · below: \(Format.count(below)) (\(Format.percent(share)))"
            }
        }
        if h.clamped > 0 { summary += " · \(Format.count(h.clamped)) outside the range, counted in the end bins" }
        if h.skipped > 0 { summary += " · \(Format.count(h.skipped)) NaN not shown" }
        add("<p class=\"summary\">\(e(summary))</p>")
        chart(h, id: id, colour: colour)
        if h.threshold != nil {
            add("<div class=\"legend\"><span><span class=\"swatch \(colour)\"></span>at or above threshold</span><span><span class=\"swatch below\"></span>below threshold</span></div>")
        }
        dataTable(h)
        add("</figure>")
    }

    /// Bins that lie entirely below the threshold (drawn in the "dropped" colour).
    func isBelow(_ h: ScoreHistogram, bin i: Int) -> Bool {
        guard let threshold = h.threshold else { return false }
        return i + 1 < h.binCount ? h.edge(i + 1) <= threshold : h.upperBound < threshold
    }

    mutating func chart(_ h: ScoreHistogram, id: String, colour: String) {
        let width = 460.0, height = 210.0
        let left = 50.0, right = 18.0, top = 20.0, bottom = 30.0
        let plotW = width - left - right, plotH = height - top - bottom
        let span = h.upperBound - h.lowerBound
        func x(_ v: Double) -> Double { left + plotW * (v - h.lowerBound) / span }
        let yMax = Double(niceCeiling(h.counts.max() ?? 0))
        func y(_ count: Double) -> Double { top + plotH * (1 - count / yMax) }
        func n(_ v: Double) -> String { Format.fixed(v, 1) }

        add("<svg viewBox=\"0 0 \(n(width)) \(n(height))\" role=\"img\" aria-labelledby=\"\(id)-c\" font-size=\"11\" font-family=\"inherit\">")
        // Horizontal grid lines and count labels.
        for tick in yTicks(max: Int(yMax)) {
            let ty = y(Double(tick))
            add("<line x1=\"\(n(left))\" x2=\"\(n(left + plotW))\" y1=\"\(n(ty))\" y2=\"\(n(ty))\" class=\"gridline\"/>")
            add("<text x=\"\(n(left - 6))\" y=\"\(n(ty + 4))\" text-anchor=\"end\" class=\"tick\">\(Format.count(tick))</text>")
        }
        // Bars, each with its range and count as a tooltip.
        for i in 0..<h.binCount {
            let x0 = x(h.edge(i)), x1 = x(h.edge(i + 1))
            let count = h.counts[i]
            let label = "\(Format.fixed(h.edge(i), 2))–\(Format.fixed(h.edge(i + 1), 2)): \(Format.count(count))"
            let barClass = isBelow(h, bin: i) ? "below" : colour
            let top = count > 0 ? min(y(Double(count)), y(0) - 1) : y(0)
            add("<rect x=\"\(n(x0 + 0.5))\" y=\"\(n(top))\" width=\"\(n(max(0.5, x1 - x0 - 1)))\" height=\"\(n(y(0) - top))\" class=\"bar-\(barClass)\"><title>\(e(label))</title></rect>")
        }
        // Axis and score labels.
        add("<line x1=\"\(n(left))\" x2=\"\(n(left + plotW))\" y1=\"\(n(y(0)))\" y2=\"\(n(y(0)))\" class=\"axis\"/>")
        let step = max(1, (h.binCount + 4) / 5)
        var i = 0
        while i <= h.binCount {
            let tx = x(h.edge(i))
            add("<line x1=\"\(n(tx))\" x2=\"\(n(tx))\" y1=\"\(n(y(0)))\" y2=\"\(n(y(0) + 4))\" class=\"axis\"/>")
            add("<text x=\"\(n(tx))\" y=\"\(n(y(0) + 16))\" text-anchor=\"middle\" class=\"tick\">\(Format.fixed(h.edge(i), 2))</text>")
            i += step
        }
        if h.total == 0 {
            add("<text x=\"\(n(left + plotW / 2))\" y=\"\(n(top + plotH / 2))\" text-anchor=\"middle\" class=\"tick\">no scores</text>")
        }
        if let threshold = h.threshold, threshold >= h.lowerBound, threshold <= h.upperBound {
            let tx = x(threshold)
            let anchor = tx > left + plotW * 0.75 ? "end" : "start"
            let labelX = anchor == "end" ? tx - 4 : tx + 4
            add("<line x1=\"\(n(tx))\" x2=\"\(n(tx))\" y1=\"\(n(top - 8))\" y2=\"\(n(y(0)))\" class=\"threshold\"/>")
            add("<text x=\"\(n(labelX))\" y=\"\(n(top - 2))\" text-anchor=\"\(anchor)\" class=\"threshold-label\">threshold \(Format.fixed(threshold, 2))</text>")
        }
        add("</svg>")
    }

    /// Lower bin edges over counts, in rows of at most ten bins so the numbers fit.
    mutating func dataTable(_ h: ScoreHistogram) {
        let perRow = h.binCount > 12 ? 10 : h.binCount
        add("<table class=\"histdata\"><caption class=\"sr\">\(e(h.title)): count per bin</caption>")
        var start = 0
        while start < h.binCount {
            var edges = "<tr><th scope=\"row\">from</th>"
            var counts = "<tr><th scope=\"row\">count</th>"
            for i in start..<(start + perRow) {
                guard i < h.binCount else {
                    edges += "<td></td>"
                    counts += "<td></td>"
                    continue
                }
                edges += "<th scope=\"col\">\(Format.fixed(h.edge(i), 2))</th>"
                counts += isBelow(h, bin: i) ? "<td class=\"below\">\(Format.count(h.counts[i]))</td>" : "<td>\(Format.count(h.counts[i]))</td>"
            }
            add(edges + "</tr>")
            add(counts + "</tr>")
            start += perRow
        }
        add("</table>")
    }
}

/// The smallest 1, 2 or 5 times a power of ten that is at least `count` (1 for an empty chart).
func niceCeiling(_ count: Int) -> Int {
    guard count > 1 else { return 1 }
    var power = 1
    while true {
        for m in [1, 2, 5] where m * power >= count { return m * power }
        power *= 10
    }
}

/// Grid values from 0 to `max` (a `niceCeiling`): the smallest 1-2-5 step that gives at most
/// five intervals.
func yTicks(max: Int) -> [Int] {
    guard max > 1 else { return [0, 1] }
    var power = 1
    while true {
        for m in [1, 2, 5] where max / (m * power) <= 5 {
            return Array(stride(from: 0, through: max, by: m * power))
        }
        power *= 10
    }
}
