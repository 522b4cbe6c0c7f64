import Foundation

/// A search as typed: words, `prefix*`, `"a phrase"`, and the filters `from:@alice`,
/// `in:#group` or `in:@bob`, `has:file|image|audio`, `before:2026-01-31`, `after:2026-01-01`.
/// Anything else is words. Parsing never fails on odd text (quotes left open, a lone `*`, SQL or
/// FTS syntax): what is not a word is dropped; only a query with nothing left, or too long, is
/// refused.
struct SearchQuery: Equatable {
    enum Term: Equatable {
        case word(String)
        /// Words that start with this.
        case prefix(String)
        /// Words next to each other, in this order.
        case phrase([String])
    }

    enum Place: Equatable {
        /// A group of the user's, by name (case and accents folded).
        case group(String)
        /// The direct conversation with this username.
        case direct(String)
    }

    enum Attachment: String, Equatable { case file, image, audio }

    var terms: [Term] = []
    /// Usernames (without `@`).
    var from: String?
    var place: Place?
    var has: Attachment?
    /// Sent before the start of this day (UTC).
    var before: Date?
    /// Sent after the end of this day (UTC): `after:2026-01-01` is from 2 January on.
    var after: Date?

    static let maxLength = 500
    static let maxTerms = 16
    /// The shortest prefix searched for: `a*` would match most of the index.
    static let minPrefix = 2

    struct Invalid: Error { var message: String; var code: String }

    /// Every word, those of phrases included.
    var wordCount: Int {
        terms.reduce(0) { count, term in
            if case .phrase(let words) = term { return count + words.count }
            return count + 1
        }
    }

    /// Whether the query has words to rank by (else it lists by date, filters only).
    var hasText: Bool { !terms.isEmpty }

    static func parse(_ raw: String) throws(Invalid) -> SearchQuery {
        guard raw.textLength <= maxLength else { throw Invalid(message: "The search is longer than \(maxLength) characters", code: "query_too_long") }
        var query = SearchQuery()
        for (token, quoted) in tokens(raw) {
            if quoted {
                let words = SearchText.words(token).filter { !SearchText.looksLikeConversationToken($0) }
                if words.count == 1 { query.terms.append(.word(words[0])) } else if !words.isEmpty { query.terms.append(.phrase(words)) }
                continue
            }
            if let filter = try query.apply(filter: token) {
                if filter { continue }
            }
            let words = SearchText.words(token).filter { !SearchText.looksLikeConversationToken($0) }
            guard !words.isEmpty else { continue }
            if token.hasSuffix("*"), let last = words.last, last.count >= minPrefix {
                query.terms += words.dropLast().map(Term.word) + [.prefix(last)]
            } else {
                query.terms += words.map(Term.word)
            }
        }
        guard query.wordCount <= maxTerms else { throw Invalid(message: "Use at most \(maxTerms) words", code: "too_many_terms") }
        guard query.hasText || query.from != nil || query.place != nil || query.has != nil || query.before != nil || query.after != nil else {
            throw Invalid(message: "Type a word to search for", code: "empty_query")
        }
        return query
    }

    /// True when `token` was a filter it applied; nil when it is no filter (a word).
    private mutating func apply(filter token: String) throws(Invalid) -> Bool? {
        guard let colon = token.firstIndex(of: ":"), colon != token.startIndex else { return nil }
        let name = token[..<colon].lowercased()
        let value = String(token[token.index(after: colon)...])
        switch name {
        case "from":
            let user = value.hasPrefix("@") ? String(value.dropFirst()) : value
            guard !user.isEmpty else { return nil }
            from = user
        case "in":
            if value.hasPrefix("@"), value.count > 1 { place = .direct(String(value.dropFirst())) }
            else if value.hasPrefix("#"), value.count > 1 { place = .group(String(value.dropFirst())) }
            else if !value.isEmpty { place = .group(value) }
            else { return nil }
        case "has":
            guard let kind = Attachment(rawValue: value.lowercased()) else {
                throw Invalid(message: "has: takes file, image or audio", code: "invalid_filter")
            }
            has = kind
        case "before", "after":
            guard let day = Self.day(value) else {
                throw Invalid(message: "\(name): takes a date like 2026-01-31", code: "invalid_filter")
            }
            if name == "before" { before = day } else { after = day.addingTimeInterval(86_400) }
        default:
            return nil
        }
        return true
    }

    private static func day(_ text: String) -> Date? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1970...9999).contains(y), (1...12).contains(m), (1...31).contains(d) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: y, month: m, day: d)
        guard let date = calendar.date(from: components), calendar.component(.day, from: date) == d else { return nil }
        return date
    }

    /// Whitespace-separated tokens; a double-quoted run is one token (a quote left open runs to
    /// the end). `in:"#Team chat"` keeps its quoted value.
    private static func tokens(_ raw: String) -> [(String, quoted: Bool)] {
        var result: [(String, Bool)] = []
        var current = ""
        var inQuotes = false
        var quotedToken = false
        func flush() {
            if !current.isEmpty { result.append((current, quotedToken)) }
            current = ""
            quotedToken = false
        }
        for character in raw {
            if character == "\"" {
                if inQuotes {
                    inQuotes = false
                    // `in:"#Team chat"`: the quotes held a filter's value, not a phrase.
                    if current.contains(":") && !quotedToken { continue }
                    flush()
                } else {
                    inQuotes = true
                    if current.isEmpty { quotedToken = true } else if !current.hasSuffix(":") { flush(); quotedToken = true }
                }
            } else if character.isWhitespace && !inQuotes {
                flush()
            } else {
                current.append(character)
            }
        }
        flush()
        return result
    }
}
