/// N-gram counts of one tokenised sentence, keyed by the n-gram's tokens joined with spaces
/// (tokens never hold whitespace, so the key is unambiguous), one table per order 1...n.
struct NGramCounts {
    /// `orders[k]` counts the (k+1)-grams.
    var orders: [[String: Int]]
    let length: Int

    init(tokens: [String], maxOrder: Int) {
        length = tokens.count
        orders = []
        for n in 1...maxOrder {
            var counts: [String: Int] = [:]
            if tokens.count >= n {
                for i in 0...(tokens.count - n) {
                    counts[tokens[i..<(i + n)].joined(separator: " "), default: 0] += 1
                }
            }
            orders.append(counts)
        }
    }
}
