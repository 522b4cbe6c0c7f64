import Foundation

/// Text for seeded messages that search can be measured on: words of a fixed made-up
/// vocabulary, drawn with Zipf's law (the word of rank r is 1/r as frequent as the first), as in
/// real chat, from a seeded generator — the same database every run. `bench-seed` writes the
/// vocabulary, most frequent first, for `chatr-bench search` to pick query words from.
struct BenchText {
    static let vocabularySize = 5_000
    static let vocabulary: [String] = (0..<vocabularySize).map(word)

    private var state: UInt64
    /// Cumulative Zipf weights, for drawing a rank by binary search.
    private static let cumulative: [Double] = {
        var total = 0.0
        return (1...vocabularySize).map { rank in total += 1 / Double(rank); return total }
    }()

    init(seed: UInt64) { state = seed }

    /// 4 to 15 words.
    mutating func message() -> String {
        (0..<(4 + Int(next() % 12))).map { _ in Self.vocabulary[rank()] }.joined(separator: " ")
    }

    private mutating func rank() -> Int {
        let target = Double(next() >> 11) / Double(1 << 53) * Self.cumulative.last!
        var low = 0, high = Self.cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if Self.cumulative[mid] < target { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// SplitMix64.
    private mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A pronounceable word per index: consonant-vowel syllables, two or three of them.
    private static func word(_ index: Int) -> String {
        let consonants = Array("bdfgklmnprstvz"), vowels = Array("aeiou")
        var n = index, syllables: [String] = []
        repeat {
            syllables.append(String([consonants[n % consonants.count], vowels[(n / consonants.count) % vowels.count]]))
            n /= consonants.count * vowels.count
        } while n > 0
        if syllables.count < 2 { syllables.append("x") }  // x is no consonant here: still unique
        return syllables.joined()
    }
}
