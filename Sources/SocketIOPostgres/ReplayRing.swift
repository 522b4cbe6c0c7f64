/// A node's most recent sequenced messages, by sequence number, for replays: a fixed ring, so
/// keeping them costs no allocation per message once full.
struct ReplayRing {
    private var slots: [(seq: UInt64, text: String)?]

    init(capacity: Int) {
        slots = Array(repeating: nil, count: max(1, capacity))
    }

    mutating func store(_ seq: UInt64, _ text: String) {
        slots[Int(seq % UInt64(slots.count))] = (seq, text)
    }

    /// The messages of `range` still kept, in order (older ones were overwritten).
    func texts(in range: ClosedRange<UInt64>) -> [String] {
        let count = UInt64(slots.count)
        let from = range.upperBound >= count ? max(range.lowerBound, range.upperBound - count + 1) : range.lowerBound
        guard from <= range.upperBound else { return [] }
        return (from...range.upperBound).compactMap { seq in
            guard let slot = slots[Int(seq % count)], slot.seq == seq else { return nil }
            return slot.text
        }
    }
}
