extension String {
    /// The length every text limit counts (names, descriptions, message content, ghost text, a
    /// search): Unicode code points, as JSON Schema's `maxLength` in the OpenAPI document counts
    /// them. Not `count` (grapheme clusters): one "character" can hold any number of combining
    /// marks, so a 50-character name could be megabytes, and the documented limit would lie.
    var textLength: Int { unicodeScalars.count }
}
