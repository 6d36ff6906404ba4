/// Greedy longest-match-first subword split: tokenizers' `models::wordpiece::WordPiece::tokenize`.
struct WordPieceModel: Sendable {
    let vocabulary: BertVocabulary
    let unknownID: Int
    let maxInputCharsPerWord = 100

    /// Reusable buffer for candidate pieces, so lookups of short pieces allocate nothing.
    struct Scratch {
        var bytes: [UInt8] = []
    }

    /// Appends the ids of one word (UTF-8 `bytes`, `scalarCount` scalars long).
    func appendIDs(
        of bytes: UnsafeBufferPointer<UInt8>, scalarCount: Int, to ids: inout [Int], scratch: inout Scratch
    ) {
        // Words longer than max_input_chars_per_word become one [UNK].
        if scalarCount > maxInputCharsPerWord {
            ids.append(unknownID)
            return
        }
        let firstNew = ids.count
        var start = 0
        while start < bytes.count {
            var end = bytes.count
            var found: Int?
            while start < end {
                scratch.bytes.removeAll(keepingCapacity: true)
                if start > 0 {
                    scratch.bytes.append(0x23)
                    scratch.bytes.append(0x23)
                }
                scratch.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<end]))
                let key = ExactStringKey(String(decoding: scratch.bytes, as: UTF8.self))
                if let id = vocabulary.id(for: key) {
                    found = id
                    break
                }
                // Step back one scalar: skip UTF-8 continuation bytes.
                end -= 1
                while end > start && bytes[end] & 0xC0 == 0x80 { end -= 1 }
            }
            guard let id = found else {
                // Any unmatched remainder turns the whole word into [UNK].
                ids.removeSubrange(firstNew...)
                ids.append(unknownID)
                return
            }
            ids.append(id)
            start = end
        }
    }
}
