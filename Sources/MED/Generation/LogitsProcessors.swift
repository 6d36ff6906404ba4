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
    var mx = -Float.infinity
    for i in 0..<count { mx = max(mx, row[i]) }
    guard mx > -.infinity else { return }
    // A full sort of 30,524 scores per token dominated sampling, and a captioner trained with
    // label smoothing puts ~10% of its mass on a flat tail, so the nucleus often reaches into
    // thousands of tokens. Instead: bucket the scores by their distance below the maximum
    // (1/64 nat per bucket; buckets follow the descending order), keep whole buckets while their
    // mass stays below p, and sort only the bucket where the mass reaches p.
    let bucketsPerNat: Float = 64, bucketCount = 4096
    var mass = [Double](repeating: 0, count: bucketCount)
    var total: Double = 0
    for i in 0..<count where row[i] > -.infinity {
        let e = Double(expf(row[i] - mx))
        total += e
        mass[min(bucketCount - 1, Int((mx - row[i]) * bucketsPerNat))] += e
    }
    var boundary = 0, before: Double = 0
    while boundary < bucketCount - 1 && (before + mass[boundary]) / total < Double(p) {
        before += mass[boundary]
        boundary += 1
    }
    func bucket(_ i: Int) -> Int { min(bucketCount - 1, Int((mx - row[i]) * bucketsPerNat)) }
    // Descending score, ties by index: the order a stable sort of the whole row gives.
    var last = (0..<count).filter { row[$0] > -.infinity && bucket($0) == boundary }
    last.sort { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }
    var cumulative = before / total, keep = 0
    for i in last {
        keep += 1
        cumulative += Double(expf(row[i] - mx)) / total
        if cumulative >= Double(p) { break }
    }
    let dropped = Set(last[keep...])
    for i in 0..<count where row[i] > -.infinity {
        let b = bucket(i)
        if b > boundary || (b == boundary && dropped.contains(i)) { row[i] = -.infinity }
    }
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
