/// The facts of each web image a caption must get right (docs/demo.md): one per attribute, with
/// every phrase `CaptionWriter` uses for the true value and every phrase of the other values.
/// The evaluate stage's `caption_facts` judges synthetic captions with them, so the share of kept
/// synthetic captions that are false is measured, not inferred from a model's score.
///
///     {"key": "17", "facts": [{"accept": ["circle", "circles"], "reject": ["square", ...]}, ...]}
enum CaptionFactsWriter {
    static func facts(_ scene: SceneAttributes, variety: SceneVariety) -> [(accept: [String], reject: [String])] {
        func fact<T: CaseIterable & Equatable>(_ value: T, _ phrases: (T) -> [String]) -> (accept: [String], reject: [String]) {
            (phrases(value), T.allCases.filter { $0 != value }.flatMap(phrases))
        }
        var facts = [
            fact(scene.shape) { [CaptionWriter.noun($0, plural: false), CaptionWriter.noun($0, plural: true)] },
            fact(scene.colour) { [$0.rawValue] },
            fact(scene.size, CaptionWriter.sizeWords),
            fact(scene.position, CaptionWriter.positionPhrases),
            fact(scene.background) { [$0.rawValue] },
        ]
        if variety.maxObjects > 1 {
            // "a" and "an" say one object too, so a single object may go without a number.
            let numbers = [1: "one", 2: "two", 3: "three"]
            facts.append((scene.count == 1 ? [] : [numbers[scene.count]!],
                          numbers.filter { $0.key != scene.count }.sorted { $0.key < $1.key }.map(\.value)))
        }
        if variety.textures {
            let others = SceneAttributes.Texture.allCases.filter { $0 != scene.texture && $0 != .plain }.map(\.rawValue)
            // A plain texture may be left unsaid; "plain" contradicts the other two.
            facts.append(scene.texture == .plain ? ([], others) : ([scene.texture.rawValue], others + ["plain"]))
        }
        return facts
    }

    static func webFactsJSONL(_ dataset: DemoDataset) -> String {
        dataset.web.map { row in
            let facts = facts(row.scene, variety: dataset.options.variety).map { fact in
                JSONText.object([
                    ("accept", JSONText.array(fact.accept.map(JSONText.string))),
                    ("reject", JSONText.array(fact.reject.map(JSONText.string))),
                ])
            }
            return JSONText.object([("key", JSONText.string(String(row.index))), ("facts", JSONText.array(facts))]) + "\n"
        }.joined()
    }
}
