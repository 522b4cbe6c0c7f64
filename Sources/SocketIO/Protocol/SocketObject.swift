/// A JSON object that keeps its keys in order (as JavaScript does), so encoding needs no
/// hashing or sorting and a decoded object re-encodes as it came. Objects in events are small;
/// lookups scan. Equality ignores order.
public struct SocketObject: Sendable, Hashable, ExpressibleByDictionaryLiteral, Sequence {
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var value: SocketValue

        public init(key: String, value: SocketValue) {
            self.key = key
            self.value = value
        }
    }

    public private(set) var entries: [Entry]

    public init() { entries = [] }

    public init(dictionaryLiteral elements: (String, SocketValue)...) {
        entries = []
        entries.reserveCapacity(elements.count)
        for (key, value) in elements { self[key] = value }
    }

    /// Entries whose keys the caller knows to be distinct (a fixed shape built in code): no checks.
    public init(distinctKeys entries: [Entry]) {
        self.entries = entries
    }

    /// From a dictionary, keys sorted so the order is the same on every run.
    public init(_ dictionary: [String: SocketValue]) {
        entries = dictionary.keys.sorted().map { Entry(key: $0, value: dictionary[$0]!) }
    }

    /// Entries as parsed; a repeated key keeps its last value (JSON.parse semantics).
    init(parsed: [Entry]) {
        entries = parsed
        guard parsed.count > 1 else { return }
        var duplicate = false
        if parsed.count <= 8 {
            // Small objects (nearly all of them): compare pairwise, no hashing.
            outer: for i in 1..<parsed.count {
                for j in 0..<i where parsed[i].key == parsed[j].key { duplicate = true; break outer }
            }
        } else {
            var seen = Set<String>(minimumCapacity: parsed.count)
            for entry in parsed where !seen.insert(entry.key).inserted { duplicate = true; break }
        }
        guard duplicate else { return }
        var last: [String: Int] = [:]
        for (index, entry) in parsed.enumerated() { last[entry.key] = index }
        entries = parsed.enumerated().filter { last[$0.element.key] == $0.offset }.map(\.element)
    }

    public subscript(key: String) -> SocketValue? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append(Entry(key: key, value: newValue))
            }
        }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    public var keys: [String] { entries.map(\.key) }
    public var values: [SocketValue] { entries.map(\.value) }
    public var dictionary: [String: SocketValue] {
        Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    public func makeIterator() -> IndexingIterator<[Entry]> { entries.makeIterator() }

    public func mapValues(_ transform: (SocketValue) throws -> SocketValue) rethrows -> SocketObject {
        var copy = self
        for index in copy.entries.indices { copy.entries[index].value = try transform(copy.entries[index].value) }
        return copy
    }

    public static func == (lhs: SocketObject, rhs: SocketObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.entries.allSatisfy { rhs[$0.key] == $0.value }
    }

    public func hash(into hasher: inout Hasher) {
        // Order-independent, to agree with ==.
        hasher.combine(count)
        hasher.combine(entries.reduce(0) { $0 &+ $1.hashValue })
    }
}
