/// A window of event time: `[start, end)` in epoch milliseconds.
public struct Window: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var start: Int64
    public var end: Int64

    public init(start: Int64, end: Int64) {
        self.start = start
        self.end = end
    }

    /// The last millisecond inside the window: when the watermark reaches it, the window is complete.
    public var maxTimestamp: Int64 { self.end == Int64.max ? Int64.max : self.end - 1 }

    public static func < (lhs: Window, rhs: Window) -> Bool {
        (lhs.end, lhs.start) < (rhs.end, rhs.start)
    }

    public var description: String { "[\(self.start), \(self.end))" }

    /// The one window of a global windowing: all of time.
    public static let global = Window(start: Int64.min, end: Int64.max)
}

/// A key together with the window it was aggregated in: the key of windowed results.
public struct Windowed<Key> {
    public var key: Key
    public var window: Window

    public init(key: Key, window: Window) {
        self.key = key
        self.window = window
    }
}

extension Windowed: Equatable where Key: Equatable {}
extension Windowed: Hashable where Key: Hashable {}
extension Windowed: Sendable where Key: Sendable {}
