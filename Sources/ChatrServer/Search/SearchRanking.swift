import SQLKit

/// The one relevance rule of both databases: BM25's term-frequency saturation and length
/// normalisation over a message's indexed words (`messages.search_text`), written as plain SQL
/// (`length`, `replace`, arithmetic) that SQLite and PostgreSQL evaluate alike — rather than
/// FTS5's `bm25` on one and `ts_rank` on the other. Two reasons: both databases order hits the
/// same way, and `bm25` weighs each term by counting the documents holding it in the whole index
/// — a scan of a third of it for a common word, on every query. Every hit of an ANDed query holds
/// every term, so for one word that weight cannot change the order; for several it would count a
/// rare word above a common one, a refinement not worth that scan.
///
/// score = Σ over the query's terms of tf·(k1+1) / (tf + k1·(1 − b + b·words/typicalLength)),
/// with the usual k1 = 1.2, b = 0.75, and a fixed typical length instead of the corpus average,
/// so a message's score depends on nothing else (pages stay put while people write).
enum SearchRanking {
    static let k1 = 1.2
    static let b = 0.75
    static let typicalLength = 12

    /// What a score is made of, as columns of the row aliased `m` (`rank_words`, `rank_tf0`…),
    /// to select in a subquery so each is computed once per candidate.
    static func columns(_ terms: [SearchQuery.Term]) -> SQLQueryString {
        // Words after the conversation's token (`SearchText.indexed`): the spaces between words.
        var columns: SQLQueryString = "(length(m.search_text) - length(replace(m.search_text, ' ', ''))) AS rank_words"
        for (index, term) in terms.enumerated() {
            let tf: SQLQueryString
            switch term {
            case .word(let word): tf = occurrences(of: " \(word) ")
            case .phrase(let words): tf = occurrences(of: " " + words.joined(separator: "  ") + " ")
            case .prefix: tf = "1.0"   // every hit holds one word with it; how many is not worth a scan
            }
            columns = "\(columns), \(tf) AS \(SQLRaw("rank_tf\(index)"))"
        }
        return columns
    }

    /// The score of the row aliased `m`, from `columns`; higher is more relevant.
    static func score(_ terms: [SearchQuery.Term]) -> SQLQueryString {
        let norm = SQLRaw("\(k1) * (\(1 - b) + \(b) * m.rank_words / \(typicalLength).0)")
        var total: SQLQueryString = "0"
        for index in terms.indices {
            let tf = SQLRaw("m.rank_tf\(index)")
            total = "\(total) + \(tf) * \(SQLRaw("\(k1 + 1)")) / (\(tf) + \(norm))"
        }
        return total
    }

    /// How many times `pattern` (letters, digits and spaces, between spaces) occurs in the words
    /// of `m.search_text`, each word put between its own two spaces so neighbouring occurrences
    /// are each counted: "zqab roadmap roadmap" → " zqab  roadmap  roadmap ", whose length is
    /// the text's + its spaces + 2. `length` counts code points on both databases, so the
    /// pattern's are counted too (not characters: "का" is one character of two). Occurrences of
    /// a phrase that overlap ("ha ha" in "ha ha ha") count once.
    private static func occurrences(of pattern: String) -> SQLQueryString {
        let spaced: SQLQueryString = "(' ' || replace(m.search_text, ' ', '  ') || ' ')"
        let spacedLength: SQLQueryString = "(2 + 2 * length(m.search_text) - length(replace(m.search_text, ' ', '')))"
        return "((\(spacedLength) - length(replace(\(spaced), \(bind: pattern), ''))) * 1.0 / \(SQLRaw(String(pattern.unicodeScalars.count))))"
    }
}
