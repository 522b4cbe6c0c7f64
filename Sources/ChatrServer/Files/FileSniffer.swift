/// Decides what a file is from its bytes — the client's Content-Type and file name are never
/// trusted.
enum SniffedType: String, Sendable, CaseIterable {
    case jpeg, png, webp, gif
    case webmAudio, webmVideo, mp4Video, m4a, mpegAudio, ogg, wav
    case pdf, doc, docx, text

    var mimeType: String {
        switch self {
        case .jpeg: return "image/jpeg"
        case .png: return "image/png"
        case .webp: return "image/webp"
        case .gif: return "image/gif"
        case .webmAudio: return "audio/webm"
        case .webmVideo: return "video/webm"
        case .mp4Video: return "video/mp4"
        case .m4a: return "audio/mp4"
        case .mpegAudio: return "audio/mpeg"
        case .ogg: return "audio/ogg"
        case .wav: return "audio/wav"
        case .pdf: return "application/pdf"
        case .doc: return "application/msword"
        case .docx: return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        case .text: return "text/plain"
        }
    }

    var fileExtension: String {
        switch self {
        case .jpeg: return "jpg"
        case .webmAudio, .webmVideo: return "webm"
        case .mp4Video: return "mp4"
        case .mpegAudio: return "mp3"
        case .text: return "txt"
        default: return rawValue
        }
    }

    var isImage: Bool { [.jpeg, .png, .webp, .gif].contains(self) }
    var isAudio: Bool { [.webmAudio, .m4a, .mpegAudio, .ogg, .wav].contains(self) }
    var isVideo: Bool { [.webmVideo, .mp4Video].contains(self) }
}

enum FileSniffer {
    static func sniff<Bytes: Collection>(_ bytes: Bytes) -> SniffedType? where Bytes.Element == UInt8 {
        sniff(head: Array(bytes.prefix(4096)), size: bytes.count)
    }

    /// From the first bytes of a file of `size` bytes (a staged upload keeps only its head).
    static func sniff(head: [UInt8], size: Int) -> SniffedType? {
        func starts(with prefix: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + prefix.count && Array(head[offset..<offset + prefix.count]) == prefix
        }
        func ascii(_ text: String, at offset: Int = 0) -> Bool { starts(with: Array(text.utf8), at: offset) }

        if starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if ascii("GIF87a") || ascii("GIF89a") { return .gif }
        if ascii("RIFF") && ascii("WEBP", at: 8) { return .webp }
        if ascii("RIFF") && ascii("WAVE", at: 8) { return .wav }
        if ascii("OggS") { return .ogg }
        if ascii("%PDF-") { return .pdf }
        if starts(with: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) { return .doc }
        if starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            // A Word document is a ZIP whose entries live under "word/".
            return head.indices.dropLast(5).contains { head[$0..<$0 + 5].elementsEqual("word/".utf8) } ? .docx : nil
        }
        if starts(with: [0x1A, 0x45, 0xDF, 0xA3]) {
            // Matroska/WebM: a video track announces itself with a "V_" codec id.
            return head.indices.dropLast(2).contains { head[$0] == UInt8(ascii: "V") && head[$0 + 1] == UInt8(ascii: "_") } ? .webmVideo : .webmAudio
        }
        if ascii("ftyp", at: 4) {
            let brand = head.count >= 12 ? String(decoding: head[8..<12], as: UTF8.self) : ""
            return ["M4A ", "M4B ", "M4P "].contains(brand) ? .m4a : .mp4Video
        }
        if ascii("ID3") || (head.count >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) { return .mpegAudio }
        if isPlainText(head, complete: head.count == size) { return .text }
        return nil
    }

    /// UTF-8 without NUL bytes or other binary control characters.
    private static func isPlainText(_ head: [UInt8], complete: Bool) -> Bool {
        guard !head.isEmpty else { return false }
        if head.contains(where: { $0 < 0x09 || ($0 > 0x0D && $0 < 0x20 && $0 != 0x1B) }) { return false }
        // The sample may end in the middle of a character; only a complete file must end cleanly.
        var bytes = head
        if !complete { while let last = bytes.last, last & 0xC0 == 0x80 || last >= 0xC0 { bytes.removeLast() } }
        return String(validating: bytes, as: UTF8.self) != nil
    }
}
