/// Image decoding, resizing and model transforms.
public enum ImagingInfo {}
