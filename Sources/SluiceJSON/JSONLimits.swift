/// Named limits of the JSON scanner, checked while a document is scanned.
public enum JSONLimits {
    /// The most objects and arrays open at once. Deeper documents are refused rather than scanned, so that the
    /// scanner's recursion has a known bound on stack use (a few hundred bytes per level); 512 is far beyond any
    /// record a pipeline handles and matches what common parsers allow.
    public static let nestingDepthMax = 512
}
