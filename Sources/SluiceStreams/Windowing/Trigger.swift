/// When a window's result is emitted. The default emits each window once, when the watermark
/// passes its end (and again for each late record within the allowed lateness).
public enum Trigger: Sendable, Equatable {
    /// The final result when the watermark passes the window's end.
    case onWatermark
    /// A result after every update: a changelog of the window's value.
    case onEveryUpdate
    /// A result each time the window has gathered `count` more records, and the final one on watermark.
    case onCount(Int64)
    /// Early results every `intervalMs` of processing time for the windows that changed, then the final one.
    case early(intervalMs: Int64)

    /// Whether a window also fires when the watermark passes its end.
    var firesOnWatermark: Bool { true }
}
