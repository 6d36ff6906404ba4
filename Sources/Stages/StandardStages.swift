import Pipeline

/// Every stage type a pipeline file can name.
public enum StandardStages {
    public static let registry = StageRegistry([
        IngestStage.type, FetchStage.type, DecodeStage.type, CaptionStage.type, FilterStage.type, GateStage.type, DecontaminateStage.type,
        DedupStage.type, AssembleStage.type, ExportStage.type, ReportStage.type,
        PretrainStage.type, PretrainVisionStage.type, FinetuneStage.type, EvaluateStage.type,
    ])
}
