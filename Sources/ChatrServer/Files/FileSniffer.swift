/// Decides what a file is from its first bytes — the client's Content-Type and file name are
/// never trusted.
enum SniffedType: String, Sendable {
    case jpeg, png, webp, gif

    var mimeType: String {
        switch self {
        case .jpeg: return "image/jpeg"
        case .png: return "image/png"
        case .webp: return "image/webp"
        case .gif: return "image/gif"
        }
    }

    var fileExtension: String { self == .jpeg ? "jpg" : rawValue }
}

enum FileSniffer {
    static func sniff<Bytes: Collection>(_ bytes: Bytes) -> SniffedType? where Bytes.Element == UInt8 {
        let head = Array(bytes.prefix(16))
        func starts(with prefix: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + prefix.count && Array(head[offset..<offset + prefix.count]) == prefix
        }
        if starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(with: Array("RIFF".utf8)) && starts(with: Array("WEBP".utf8), at: 8) { return .webp }
        if starts(with: Array("GIF87a".utf8)) || starts(with: Array("GIF89a".utf8)) { return .gif }
        return nil
    }
}
