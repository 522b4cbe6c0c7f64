import Foundation

/// The one rule for what search compares: text folded (case, accents, width — `café`, `CAFÉ`
/// and `Cafe` are one word) and cut into words of letters and digits. The index holds each
/// message's words joined by spaces (`messages.search_text`), so both databases' tokenizers see
/// only plain words and agree with each other and with queries, which are folded the same way.
enum SearchText {
    /// The words of `text`, folded, in order.
    static func words(_ text: String) -> [String] {
        fold(text).split { !isWordCharacter($0) }.map(String.init)
    }

    /// What the index holds for a message: its conversation's token, then the words of its
    /// text, file name and caption; nothing when it was unsent (unsent messages are never found).
    static func indexed(_ message: Message) -> String? {
        guard message.deletedAt == nil else { return nil }
        let fields = searchableFields(content: message.content, fileName: message.fileName, caption: message.caption)
        let words = fields.map(\.text).flatMap(words)
        return ([conversationToken(message.conversationID)] + words).joined(separator: " ")
    }

    /// A word standing for a conversation, indexed with each of its messages, so a search can be
    /// narrowed to the user's conversations inside the full-text index (merging word lists)
    /// instead of ranking every match in the database and dropping most. Letters only (the hex
    /// digits of the id as `a`…`p`) after `zq`: one plain word for every tokenizer.
    static func conversationToken(_ id: UUID) -> String {
        let letters = Array("abcdefghijklmnop")
        return "zq" + String(id.uuidString.lowercased().compactMap { $0.hexDigitValue.map { letters[$0] } })
    }

    /// The fields a message is found by, as shown to people (a file message's content is its
    /// file name again, so it is not listed twice).
    static func searchableFields(content: String, fileName: String?, caption: String?) -> [(field: String, text: String)] {
        var fields: [(String, String)] = []
        if !content.isEmpty, content != fileName { fields.append(("content", content)) }
        if let name = fileName, !name.isEmpty { fields.append(("fileName", name)) }
        if let caption, !caption.isEmpty, caption != content { fields.append(("caption", caption)) }
        return fields
    }

    static func fold(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
    }

    /// Letters, and decimal digits of any script — not `²` or `½`, which PostgreSQL's parser
    /// drops where FTS5 keeps them (the two databases must see the same words).
    static func isWordCharacter(_ c: Character) -> Bool {
        c.isLetter || c.unicodeScalars.allSatisfy { $0.properties.numericType == .decimal }
    }

    /// Whether a query word could match a conversation token (`zq` and letters up to `p`): such
    /// words are dropped from queries, so nobody can list a conversation by its token (`zq*`).
    static func looksLikeConversationToken(_ word: String) -> Bool {
        word.hasPrefix("zq") && word.dropFirst(2).allSatisfy { ("a"..."p").contains($0) }
    }

    /// Where the query's words occur in `text`, as UTF-16 ranges (what a browser's string
    /// indexes count): whole words, or word starts for prefixes. Each character is folded on its
    /// own, so the ranges point into the original text, not the folded one.
    static func matches(of terms: [SearchQuery.Term], in text: String) -> [Range<Int>] {
        let exact = Set(terms.flatMap { term -> [String] in
            if case .word(let w) = term { return [w] }
            if case .phrase(let ws) = term { return ws }
            return []
        })
        let prefixes = terms.compactMap { term -> String? in if case .prefix(let p) = term { return p } else { return nil } }
        var ranges: [Range<Int>] = []
        var offset = 0
        var wordStart: Int?
        var word = ""
        func close() {
            if let start = wordStart, !word.isEmpty,
               exact.contains(word) || prefixes.contains(where: { word.hasPrefix($0) }) {
                ranges.append(start..<offset)
            }
            wordStart = nil
            word = ""
        }
        for character in text {
            if character.utf8.count == 1, let ascii = character.asciiValue {
                // Most text: folding an ASCII character is lowercasing it, without Foundation.
                // (Not "\r\n": one Character, two UTF-16 units.)
                let lower = ascii | ((0x41...0x5A).contains(ascii) ? 0x20 : 0)
                if (0x61...0x7A).contains(lower) || (0x30...0x39).contains(lower) {
                    if wordStart == nil { wordStart = offset }
                    word.unicodeScalars.append(Unicode.Scalar(lower))
                } else {
                    close()
                }
                offset += 1
                continue
            }
            let folded = fold(String(character))
            if folded.allSatisfy(isWordCharacter) && !folded.isEmpty {
                if wordStart == nil { wordStart = offset }
                word += folded
            } else {
                close()
            }
            offset += character.utf16.count
        }
        close()
        return ranges
    }
}
