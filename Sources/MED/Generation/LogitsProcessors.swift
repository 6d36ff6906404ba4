import Foundation
/// Score processors applied to one row of next-token scores, each mirroring the transformers
/// class named in its comment. `row` has the vocabulary size; `history` is the sequence so far.

/// RepetitionPenaltyLogitsProcessor: every token already in the sequence has its score divided by
/// the penalty when positive and multiplied by it when negative.
func applyRepetitionPenalty(_ row: UnsafeMutablePointer<Float>, history: [Int], penalty: Float) {
    guard penalty != 1 else { return }
    for id in Set(history) {
        let s = row[id]
        row[id] = s < 0 ? s * penalty : s / penalty
    }
}

/// MinLengthLogitsProcessor: the end token is impossible while the sequence is shorter than minLength.
func applyMinLength(_ row: UnsafeMutablePointer<Float>, length: Int, minLength: Int, eos: Int) {
    if length < minLength { row[eos] = -.infinity }
}

/// TemperatureLogitsWarper.
func applyTemperature(_ row: UnsafeMutablePointer<Float>, count: Int, temperature: Float) {
    guard temperature != 1 else { return }
    for i in 0..<count { row[i] /= temperature }
}

/// TopKLogitsWarper: keep the k highest scores (ties at the k-th value are kept), others -inf.
func applyTopK(_ row: UnsafeMutablePointer<Float>, count: Int, k: Int) {
    guard k > 0 && k < count else { return }
    var top = Array(UnsafeBufferPointer(start: row, count: count))
    top.sort(by: >)
    let threshold = top[k - 1]
    for i in 0..<count where row[i] < threshold { row[i] = -.infinity }
}

/// TopPLogitsWarper: keep the smallest set of highest-probability tokens whose cumulative
/// probability reaches p (at least one token), others -inf.
func applyTopP(_ row: UnsafeMutablePointer<Float>, count: Int, p: Float) {
    guard p < 1 else { return }
    var order = Array(0..<count).filter { row[$0] > -.infinity }
    order.sort { row[$0] > row[$1] }
    guard let first = order.first else { return }
    let mx = row[first]
    var total: Double = 0
    for i in order { total += Double(expf(row[i] - mx)) }
    var cumulative: Double = 0
    var keep = 0
    for i in order {
        cumulative += Double(expf(row[i] - mx)) / total
        keep += 1
        if cumulative >= Double(p) { break }
    }
    for i in order[keep...] { row[i] = -.infinity }
}

/// In-place log_softmax of one row (float, as torch on CPU).
func logSoftmax(_ row: UnsafeMutablePointer<Float>, count: Int) {
    var mx = -Float.infinity
    for i in 0..<count { mx = max(mx, row[i]) }
    var s: Float = 0
    for i in 0..<count { s += expf(row[i] - mx) }
    let lse = mx + logf(s)
    for i in 0..<count { row[i] -= lse }
}
