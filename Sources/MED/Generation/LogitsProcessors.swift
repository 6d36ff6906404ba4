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
    // Each token's bucket, computed once (-1: already impossible).
    var bucketOf = [Int16](repeating: -1, count: count)
    var total: Double = 0
    for i in 0..<count where row[i] > -.infinity {
        let e = Double(expf(row[i] - mx))
        total += e
        let b = min(bucketCount - 1, Int((mx - row[i]) * bucketsPerNat))
        bucketOf[i] = Int16(b)
        mass[b] += e
    }
    var boundary = 0, before: Double = 0
    while boundary < bucketCount - 1 && (before + mass[boundary]) / total < Double(p) {
        before += mass[boundary]
        boundary += 1
    }
    // Descending score, ties by index: the order a stable sort of the whole row gives. Sorted as
    // one integer key per token (the score's bits flipped to sort descending, then the index),
    // which is several times faster than a comparator over two arrays when the bucket is large.
    var last: [UInt64] = []
    for i in 0..<count where Int(bucketOf[i]) == boundary {
        last.append(UInt64(descendingKey(row[i])) << 32 | UInt64(i))
    }
    last.sort()
    var cumulative = before / total, keep = last.count
    for (n, key) in last.enumerated() {
        cumulative += Double(expf(row[Int(key & 0xFFFF_FFFF)] - mx)) / total
        if cumulative >= Double(p) { keep = n + 1; break }
    }
    for key in last[keep...] { row[Int(key & 0xFFFF_FFFF)] = -.infinity }
    for i in 0..<count where Int(bucketOf[i]) > boundary { row[i] = -.infinity }
}

/// A key whose ascending order is the descending order of finite floats (and of +-infinity):
/// the IEEE bits made monotonic (sign flipped for positives, all bits for negatives), then
/// inverted. -0 is +0, as `==` has them.
@inline(__always)
private func descendingKey(_ x: Float) -> UInt32 {
    let bits = x == 0 ? 0 : x.bitPattern
    let ascending = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    return ~ascending
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
