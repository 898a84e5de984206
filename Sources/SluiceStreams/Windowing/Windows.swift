/// How records are assigned to windows, as Flink and Kafka Streams define the kinds.
public enum Windows: Sendable, Equatable {
    /// Fixed, non-overlapping windows of `size` ms aligned to the epoch (plus `offset`).
    case tumbling(size: Int64, offset: Int64 = 0)
    /// Windows of `size` ms starting every `advance` ms (Flink's sliding windows, Kafka Streams' hopping).
    case hopping(size: Int64, advance: Int64, offset: Int64 = 0)
    /// Kafka Streams' sliding windows: every record defines the window of `size` ms that ends at its
    /// timestamp (inclusive), so results exist exactly for the moments the contents change.
    case sliding(size: Int64)
    /// Sessions per key: records closer than `gap` ms join one session; sessions merge when a record bridges them.
    case session(gap: Int64)
    /// Flink's cumulate windows: within each period of `size` ms, windows that grow by `step` ms from the period's start.
    case cumulate(step: Int64, size: Int64)
    /// One window for all time; results come from count or periodic triggers.
    case global

    /// Bounds on the parameters; the message says which one is wrong.
    func validate() throws(StreamsError) {
        switch self {
        case .tumbling(let size, let offset):
            guard size > 0 else { throw StreamsError(.invalidTopology, "a tumbling window needs a positive size, not \(size)") }
            guard offset >= 0 && offset < size else { throw StreamsError(.invalidTopology, "a window offset must be in 0..<size") }
        case .hopping(let size, let advance, let offset):
            guard size > 0, advance > 0, advance <= size else {
                throw StreamsError(.invalidTopology, "a hopping window needs 0 < advance (\(advance)) <= size (\(size))")
            }
            guard offset >= 0 && offset < advance else { throw StreamsError(.invalidTopology, "a window offset must be in 0..<advance") }
            guard size / advance <= Windows.windowsPerRecordMax else {
                throw StreamsError(.invalidTopology, "size/advance = \(size / advance) exceeds \(Windows.windowsPerRecordMax) windows per record")
            }
        case .sliding(let size):
            guard size > 0 else { throw StreamsError(.invalidTopology, "a sliding window needs a positive size, not \(size)") }
        case .session(let gap):
            guard gap > 0 else { throw StreamsError(.invalidTopology, "a session window needs a positive gap, not \(gap)") }
        case .cumulate(let step, let size):
            guard step > 0, size >= step, size % step == 0 else {
                throw StreamsError(.invalidTopology, "a cumulate window needs a step (\(step)) that divides its size (\(size))")
            }
            guard size / step <= Windows.windowsPerRecordMax else {
                throw StreamsError(.invalidTopology, "size/step = \(size / step) exceeds \(Windows.windowsPerRecordMax) windows per record")
            }
        case .global:
            break
        }
    }

    /// The most windows one record may fall into (hopping, cumulate): a guard against a typo that
    /// would multiply state by millions.
    public static let windowsPerRecordMax: Int64 = 10_000

    /// The windows of the aligned kinds (tumbling, hopping, cumulate, global) that contain `timestamp`,
    /// in increasing order of end. Sessions and sliding windows depend on other records: their
    /// operators assign them.
    @inlinable
    func assign(_ timestamp: Int64, into windows: inout [Window]) {
        windows.removeAll(keepingCapacity: true)
        switch self {
        case .tumbling(let size, let offset):
            let start = Self.alignedStart(timestamp, size: size, offset: offset)
            windows.append(Window(start: start, end: start + size))
        case .hopping(let size, let advance, let offset):
            // The latest window containing the record starts at `last`; earlier ones every `advance` before, back
            // to the earliest that still ends after the record.
            let last = Self.alignedStart(timestamp, size: advance, offset: offset)
            let earlierCount = (last - (timestamp - size) - 1) / advance
            var start = last - earlierCount * advance
            while start <= last {
                windows.append(Window(start: start, end: start + size))
                start += advance
            }
        case .cumulate(let step, let size):
            let periodStart = Self.alignedStart(timestamp, size: size, offset: 0)
            var end = Self.alignedStart(timestamp, size: step, offset: 0) + step
            while end <= periodStart + size {
                windows.append(Window(start: periodStart, end: end))
                end += step
            }
        case .global:
            windows.append(.global)
        case .sliding, .session:
            preconditionFailure("\(self) windows are assigned by their operator")
        }
    }

    /// The start of the window of `size` (aligned to `offset`) holding `timestamp`, rounding toward
    /// minus infinity so that negative timestamps work too.
    @inlinable
    static func alignedStart(_ timestamp: Int64, size: Int64, offset: Int64) -> Int64 {
        let shifted = timestamp - offset
        var remainder = shifted % size
        if remainder < 0 { remainder += size }
        return timestamp - remainder
    }
}
