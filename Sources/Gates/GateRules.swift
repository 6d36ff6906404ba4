/// One gate's rules: those on whole samples and those on captions.
public struct GateRules: Sendable {
    public var sample: SampleRules
    public var text: TextRules

    public init(sample: SampleRules = SampleRules(), text: TextRules = TextRules()) { self.sample = sample; self.text = text }
}
