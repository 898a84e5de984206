/// The reference generator's word lists (Apache Beam's Nexmark `PersonGenerator` and the Flink port's
/// `BidGenerator`). They are kept short on purpose, as in the reference: the benchmark queries filter
/// on states and categories and must find matches even in a small run.
enum NexmarkVocabulary {
    static let usStates = ["AZ", "CA", "ID", "OR", "WA", "WY"]

    static let usCities = [
        "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent",
        "Cheyenne",
    ]

    static let firstNames = [
        "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter",
    ]

    static let lastNames = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"]

    /// The channels that carry half of all bids.
    static let hotChannels = ["Google", "Facebook", "Baidu", "Apple"]

    /// Every URL starts so; three random path segments and `urlSuffix` follow.
    static let urlPrefix = "https://www.nexmark.com/"
    static let urlSuffix = "item.htm?query=1"
}
