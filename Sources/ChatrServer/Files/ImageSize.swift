import Foundation

/// The displayed width and height of an uploaded image, read from its header, so a client can
/// reserve the image's box before it loads and a chat does not jump as pictures arrive.
/// Only the few bytes that say the size are read (a JPEG's segments are skipped by their
/// lengths, not scanned); anything that does not parse gives nil, never an error — the size is
/// a hint, the upload is valid without it.
struct ImageSize: Equatable, Sendable {
    var width: Int
    var height: Int

    /// Larger sizes are not believed (a forged header); the box is then left to the browser.
    static let maxSide = 65_535

    /// Reads random-access byte ranges of one file.
    struct Source {
        let read: (_ offset: Int, _ count: Int) -> [UInt8]
    }

    static func of(fileAt path: String, kind: SniffedType) -> ImageSize? {
        guard kind.isImage, let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let source = Source { offset, count in
            guard offset >= 0, (try? handle.seek(toOffset: UInt64(offset))) != nil else { return [] }
            return [UInt8]((try? handle.read(upToCount: count)) ?? Data())
        }
        return of(source, kind: kind)
    }

    static func of(bytes: [UInt8], kind: SniffedType) -> ImageSize? {
        of(Source { offset, count in
            guard offset >= 0, offset < bytes.count else { return [] }
            return Array(bytes[offset..<min(bytes.count, offset + count)])
        }, kind: kind)
    }

    static func of(_ source: Source, kind: SniffedType) -> ImageSize? {
        let size: ImageSize?
        switch kind {
        case .png: size = png(source)
        case .gif: size = gif(source)
        case .webp: size = webp(source)
        case .jpeg: size = jpeg(source)
        default: size = nil
        }
        guard let size, (1...maxSide).contains(size.width), (1...maxSide).contains(size.height) else { return nil }
        return size
    }

    // MARK: Formats

    /// The IHDR chunk comes first: width and height at bytes 16 and 20, big-endian.
    private static func png(_ source: Source) -> ImageSize? {
        let b = source.read(0, 24)
        guard b.count == 24, String(decoding: b[12..<16], as: UTF8.self) == "IHDR" else { return nil }
        return ImageSize(width: Int(be32(b, 16)), height: Int(be32(b, 20)))
    }

    /// The logical screen: width and height at bytes 6 and 8, little-endian.
    private static func gif(_ source: Source) -> ImageSize? {
        let b = source.read(0, 10)
        guard b.count == 10 else { return nil }
        return ImageSize(width: Int(le16(b, 6)), height: Int(le16(b, 8)))
    }

    /// The first chunk says which of the three WebP flavours it is, and each stores the size
    /// its own way (RFC 9649).
    private static func webp(_ source: Source) -> ImageSize? {
        let b = source.read(0, 30)
        guard b.count == 30 else { return nil }
        switch String(decoding: b[12..<16], as: UTF8.self) {
        case "VP8 ":  // lossy: after the frame tag and start code, 14-bit sizes
            guard b[23] == 0x9D, b[24] == 0x01, b[25] == 0x2A else { return nil }
            return ImageSize(width: Int(le16(b, 26) & 0x3FFF), height: Int(le16(b, 28) & 0x3FFF))
        case "VP8L":  // lossless: after the 0x2F signature, two 14-bit fields minus one
            guard b[20] == 0x2F else { return nil }
            let bits = UInt32(b[21]) | UInt32(b[22]) << 8 | UInt32(b[23]) << 16 | UInt32(b[24]) << 24
            return ImageSize(width: Int(bits & 0x3FFF) + 1, height: Int((bits >> 14) & 0x3FFF) + 1)
        case "VP8X":  // extended: 24-bit canvas sizes minus one
            return ImageSize(width: Int(le24(b, 24)) + 1, height: Int(le24(b, 27)) + 1)
        default:
            return nil
        }
    }

    /// Walks the segments to the first start-of-frame, noting the EXIF orientation on the way:
    /// browsers turn the picture as EXIF says (`image-orientation: from-image`), so an image
    /// stored on its side is shown with width and height swapped.
    private static func jpeg(_ source: Source) -> ImageSize? {
        var offset = 2
        var quarterTurned = false
        for _ in 0..<512 {  // a real file has a few dozen segments; a forged one cannot loop us
            let header = source.read(offset, 4)
            guard header.count == 4, header[0] == 0xFF else { return nil }
            let marker = header[1]
            if marker == 0xFF { offset += 1; continue }  // fill byte
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { offset += 2; continue }  // no length
            let length = Int(be16(header, 2))
            guard length >= 2 else { return nil }
            let isStartOfFrame = (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker)
            if isStartOfFrame {
                let frame = source.read(offset + 4, 5)
                guard frame.count == 5 else { return nil }
                let height = Int(be16(frame, 1)), width = Int(be16(frame, 3))
                return quarterTurned ? ImageSize(width: height, height: width) : ImageSize(width: width, height: height)
            }
            if marker == 0xE1, let orientation = exifOrientation(source.read(offset + 4, min(length - 2, 64 * 1024))) {
                quarterTurned = (5...8).contains(orientation)
            }
            if marker == 0xDA || marker == 0xD9 { return nil }  // image data before any frame header
            offset += 2 + length
        }
        return nil
    }

    /// Orientation (tag 0x0112) from an APP1 segment's body: "Exif\0\0", then a TIFF header and
    /// the first directory.
    static func exifOrientation(_ app1: [UInt8]) -> Int? {
        guard app1.count >= 14, app1.starts(with: Array("Exif".utf8) + [0, 0]) else { return nil }
        let tiff = Array(app1[6...])
        let little: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? { at + 2 <= tiff.count ? Int(little ? le16(tiff, at) : be16(tiff, at)) : nil }
        func u32(_ at: Int) -> Int? {
            guard at + 4 <= tiff.count else { return nil }
            return Int(little ? UInt32(le16(tiff, at)) | UInt32(le16(tiff, at + 2)) << 16 : be32(tiff, at))
        }
        guard let directory = u32(4), let count = u16(directory) else { return nil }
        for index in 0..<min(count, 256) {
            let entry = directory + 2 + index * 12
            guard let tag = u16(entry) else { return nil }
            if tag == 0x0112 { return u16(entry + 8) }
        }
        return nil
    }

    // MARK: Byte order

    private static func be16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) << 8 | UInt16(b[at + 1]) }
    private static func le16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
    private static func le24(_ b: [UInt8], _ at: Int) -> UInt32 { UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 }
    private static func be32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }
}
