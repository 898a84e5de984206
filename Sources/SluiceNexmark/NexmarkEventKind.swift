/// The kind of a Nexmark event; the raw value is the `event_type` of the JSON form.
public enum NexmarkEventKind: Int, Sendable, Hashable, CaseIterable {
    case person = 0
    case auction = 1
    case bid = 2
}
