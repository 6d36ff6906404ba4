import Foundation

/// The JSON files of scripts/make_evaluation_fixtures.py.
enum Fixtures {
    static let folder: URL = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")

    static func load<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: folder.appendingPathComponent(name)))
    }

    struct Captions: Decodable {
        struct Tokenizer: Decodable {
            let lines: [String]
            let tokens: [String]
        }
        struct Case: Decodable {
            let name: String
            let candidates: [String]
            let references: [[String]]
            let candidates_tokenized: [String]
            let references_tokenized: [[String]]
            let bleu: [Double]
            let cider: Double
            let cider_per_image: [Double]
        }
        let tokenizer: Tokenizer
        let cases: [Case]
    }

    struct Retrieval: Decodable {
        let image_count: Int
        let text_image: [Int]
        let scores: [[Double]]
        let image_ranks: [Int]
        let text_ranks: [Int]
        let i2t: [String: Double]
        let t2i: [String: Double]
    }

    struct Detection: Decodable {
        let kinds: [String]
        let dropped: [Bool]
        let precision: Double
        let recall: Double
        let false_drop_rate: Double
        let recall_by_kind: [String: Double]
    }

    struct Difference: Decodable {
        let first: [Bool]
        let second: [Bool]
        let difference: Double
        let standard_error: Double
        let independent_standard_error: Double
    }
}
