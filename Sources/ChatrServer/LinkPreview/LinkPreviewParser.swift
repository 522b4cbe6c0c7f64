import Foundation
import NIOCore

/// What a page says about itself in its `<head>`: Open Graph (`og:title`, `og:description`,
/// `og:image`, `og:site_name`), Twitter cards, then plain `<title>` and `<meta name=description>`.
/// A small scanner rather than an HTML parser: only `<meta>` and `<title>` matter, it stops at
/// `</head>` or `<body>`, and it never builds a tree of what a hostile page sends.
enum LinkPreviewParser {
    struct Page: Equatable {
        var title: String?
        var description: String?
        var image: String?
        var siteName: String?
    }

    static let maxTitle = 200
    static let maxDescription = 300

    /// The head of a page is in its first kilobytes; what follows is not read.
    static let maxScanned = 256 * 1024

    static func parse(_ bytes: ByteBufferView) -> Page {
        parse(String(decoding: bytes.prefix(maxScanned), as: UTF8.self))
    }

    static func parse(_ html: String) -> Page {
        var meta: [String: String] = [:]
        var title: String?
        var rest = Substring(html)
        while let open = rest.firstIndex(of: "<") {
            rest = rest[rest.index(after: open)...]
            let lower = rest.prefix(6).lowercased()
            if lower.hasPrefix("/head") || lower.hasPrefix("body") { break }
            if lower.hasPrefix("!--") {  // a comment may hold anything, tags included
                guard let end = rest.range(of: "-->") else { break }
                rest = rest[end.upperBound...]
                continue
            }
            let isTitle = lower.hasPrefix("title") && title == nil
            guard isTitle || lower.hasPrefix("meta") else { continue }
            // A tag that never closes: nothing after it can close either (and looking again for
            // each of many such tags made a hostile page take minutes).
            guard let end = rest.firstIndex(of: ">") else { break }
            if isTitle {
                let body = rest[rest.index(after: end)...]
                let close = body.range(of: "</title", options: .caseInsensitive)?.lowerBound ?? body.endIndex
                title = String(body[..<close])
                rest = body[close...]
                continue
            }
            let attributes = Self.attributes(of: rest[rest.index(rest.startIndex, offsetBy: 4)..<end])
            rest = rest[end...]
            guard let key = (attributes["property"] ?? attributes["name"])?.lowercased(), let content = attributes["content"] else { continue }
            if meta[key] == nil { meta[key] = content }
        }
        func first(_ keys: String...) -> String? {
            keys.lazy.compactMap { meta[$0].map(clean) }.first { !$0.isEmpty }
        }
        return Page(title: truncate(first("og:title", "twitter:title") ?? title.map(clean).flatMap { $0.isEmpty ? nil : $0 }, to: maxTitle),
                    description: truncate(first("og:description", "twitter:description", "description"), to: maxDescription),
                    image: first("og:image:secure_url", "og:image", "og:image:url", "twitter:image", "twitter:image:src"),
                    siteName: truncate(first("og:site_name", "application-name"), to: maxTitle))
    }

    /// `name="value"`, `name='value'` and `name=value` pairs, names lowercased.
    static func attributes(of tag: Substring) -> [String: String] {
        var result: [String: String] = [:]
        var index = tag.startIndex
        func skipSpaces() { while index < tag.endIndex, tag[index].isWhitespace || tag[index] == "/" { index = tag.index(after: index) } }
        while index < tag.endIndex {
            skipSpaces()
            let nameStart = index
            while index < tag.endIndex, !tag[index].isWhitespace, tag[index] != "=", tag[index] != "/" { index = tag.index(after: index) }
            let name = tag[nameStart..<index].lowercased()
            while index < tag.endIndex, tag[index].isWhitespace { index = tag.index(after: index) }
            guard index < tag.endIndex, tag[index] == "=" else {
                if name.isEmpty { index = index < tag.endIndex ? tag.index(after: index) : index }
                continue
            }
            index = tag.index(after: index)
            while index < tag.endIndex, tag[index].isWhitespace { index = tag.index(after: index) }
            guard index < tag.endIndex else { break }
            let value: Substring
            if tag[index] == "\"" || tag[index] == "'" {
                let quote = tag[index]
                let start = tag.index(after: index)
                let end = tag[start...].firstIndex(of: quote) ?? tag.endIndex
                value = tag[start..<end]
                index = end < tag.endIndex ? tag.index(after: end) : end
            } else {
                let start = index
                while index < tag.endIndex, !tag[index].isWhitespace { index = tag.index(after: index) }
                value = tag[start..<index]
            }
            if !name.isEmpty, result[name] == nil { result[name] = String(value) }
        }
        return result
    }

    /// Entities decoded, control characters dropped, runs of white space made one space.
    static func clean(_ text: String) -> String {
        let decoded = decodeEntities(text)
        let visible = decoded.unicodeScalars.map { scalar -> Character in
            CharacterSet.controlCharacters.contains(scalar) || CharacterSet.whitespacesAndNewlines.contains(scalar) ? " " : Character(scalar)
        }
        return String(visible).split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    static func truncate(_ text: String?, to limit: Int) -> String? {
        guard let text else { return nil }
        let scalars = text.unicodeScalars
        guard scalars.count > limit else { return text }
        return String(String.UnicodeScalarView(scalars.prefix(limit - 1))) + "…"
    }

    private static let named: [String: String] = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "#39": "'", "nbsp": " ",
                                                  "hellip": "…", "mdash": "—", "ndash": "–", "rsquo": "’", "lsquo": "‘",
                                                  "rdquo": "”", "ldquo": "“", "copy": "©", "reg": "®", "trade": "™"]

    /// `&amp;`, `&#39;`, `&#x27;` and the common named entities; anything else is left as written.
    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            if let semicolon = after.prefix(10).firstIndex(of: ";") {
                let name = String(after[..<semicolon])
                var scalar: Unicode.Scalar?
                if name.hasPrefix("#x") || name.hasPrefix("#X") {
                    scalar = UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
                } else if name.hasPrefix("#") {
                    scalar = UInt32(name.dropFirst()).flatMap(Unicode.Scalar.init)
                }
                if let scalar, scalar.value != 0 {
                    result.unicodeScalars.append(scalar)
                    rest = after[after.index(after: semicolon)...]
                    continue
                }
                if let replacement = named[name.lowercased()] {
                    result += replacement
                    rest = after[after.index(after: semicolon)...]
                    continue
                }
            }
            result += "&"
            rest = after
        }
        return result + rest
    }
}
