/// The MED (Multimodal mixture of Encoder-Decoder) engine.
public enum MEDInfo { public static let decoderBOS = 30522; public static let encoderToken = 30523 }
