import Foundation
import XCTest
@testable import ChatrServer

/// `ImageSize`: the size clients reserve for a picture before it loads.
final class ImageSizeTests: XCTestCase {
    /// Files from a real encoder (ffmpeg, which CI installs for audio durations) in every accepted
    /// format, WebP in both its lossy and lossless flavours.
    func testFilesFromARealEncoderAreMeasured() throws {
        let ffmpeg = "/usr/bin/ffmpeg"
        guard FileManager.default.isExecutableFile(atPath: ffmpeg) else { throw XCTSkip("ffmpeg is not installed") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("imagesize-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let cases: [(name: String, extra: [String], kind: SniffedType)] = [
            ("a.png", [], .png), ("a.jpg", [], .jpeg), ("a.gif", [], .gif), ("lossy.webp", [], .webp), ("lossless.webp", ["-lossless", "1"], .webp),
        ]
        for (name, extra, kind) in cases {
            let path = folder + "/" + name
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ffmpeg)
            process.arguments = ["-v", "error", "-y", "-f", "lavfi", "-i", "color=blue:s=640x358", "-frames:v", "1"] + extra + [path]
            try process.run()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, name)
            let head = Array(try XCTUnwrap(FileManager.default.contents(atPath: path)).prefix(4096))
            XCTAssertEqual(FileSniffer.sniff(head: head, size: head.count), kind, name)
            XCTAssertEqual(ImageSize.of(fileAt: path, kind: kind), ImageSize(width: 640, height: 358), name)
        }
    }

    /// A JPEG whose EXIF says "turn a quarter" is shown on its side: width and height swap.
    func testAJPEGTurnedByEXIFHasItsSidesSwapped() {
        for (orientation, expected) in [(1, ImageSize(width: 400, height: 300)), (6, ImageSize(width: 300, height: 400)),
                                        (8, ImageSize(width: 300, height: 400)), (3, ImageSize(width: 400, height: 300))] {
            for bigEndian in [true, false] {
                let file = Self.jpeg(width: 400, height: 300, orientation: orientation, bigEndian: bigEndian)
                XCTAssertEqual(ImageSize.of(bytes: file, kind: .jpeg), expected, "orientation \(orientation), big-endian \(bigEndian)")
            }
        }
        XCTAssertEqual(ImageSize.of(bytes: Self.jpeg(width: 400, height: 300, orientation: nil, bigEndian: true), kind: .jpeg),
                       ImageSize(width: 400, height: 300), "no EXIF")
    }

    /// Truncated, forged and hostile headers give nil (no size), never a crash or a hang.
    func testBrokenHeadersGiveNoSize() {
        let good = Self.jpeg(width: 400, height: 300, orientation: 6, bigEndian: false)
        for length in stride(from: 0, to: good.count - 1, by: 3) {
            _ = ImageSize.of(bytes: Array(good.prefix(length)), kind: .jpeg)  // must not trap
        }
        let frame = good.indices.first { good[$0] == 0xFF && good[$0 + 1] == 0xC0 }!
        XCTAssertEqual(ImageSize.of(bytes: Array(good.prefix(frame + 9)), kind: .jpeg), ImageSize(width: 300, height: 400))
        XCTAssertNil(ImageSize.of(bytes: Array(good.prefix(frame + 8)), kind: .jpeg), "cut inside the frame header")
        XCTAssertNil(ImageSize.of(bytes: Self.jpeg(width: 0, height: 300, orientation: nil, bigEndian: true), kind: .jpeg), "zero width")
        // A segment whose length is 0 or 1 would not move the walk forward.
        XCTAssertNil(ImageSize.of(bytes: [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x00, 0xFF, 0xC0], kind: .jpeg))
        // Thousands of tiny segments: the walk gives up rather than reading the whole file.
        let padded: [UInt8] = [0xFF, 0xD8] + Array(repeating: [0xFF, 0xFE, 0x00, 0x02], count: 5_000).flatMap { $0 }
            + [0xFF, 0xC0, 0x00, 0x11, 8, 0, 10, 0, 10]
        XCTAssertNil(ImageSize.of(bytes: padded, kind: .jpeg))
        // A PNG claiming 4 billion pixels a side is not believed.
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
        png += [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 10]
        XCTAssertNil(ImageSize.of(bytes: png, kind: .png))
        XCTAssertNil(ImageSize.of(bytes: Array(png.prefix(20)), kind: .png), "cut short")
        XCTAssertNil(ImageSize.of(bytes: Array("RIFF\0\0\0\0WEBPVP8X".utf8), kind: .webp), "cut short")
        XCTAssertNil(ImageSize.of(bytes: Array("GIF89a".utf8), kind: .gif), "cut short")
        XCTAssertNil(ImageSize.of(bytes: Array(repeating: 0, count: 100), kind: .pdf), "not an image")
        XCTAssertNil(ImageSize.exifOrientation(Array("Exif\0\0II*\0\u{FF}\u{FF}\u{FF}\u{7F}".utf8)), "directory past the end")
    }

    /// SOI, an optional APP1 with an EXIF orientation, SOF0 with the size, then SOS.
    static func jpeg(width: Int, height: Int, orientation: Int?, bigEndian: Bool) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: Int) -> [UInt8] { bigEndian ? [0, 0] + u16(v) : u16(v) + [0, 0] }
        var bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array("JFIF\0".utf8) + Array(repeating: 1, count: 9)
        if let orientation {
            let tiff: [UInt8] = (bigEndian ? Array("MM".utf8) : Array("II".utf8)) + u16(42) + u32(8)
                + u16(2)  // two entries: something else first, then the orientation
                + u16(0x010F) + u16(2) + u32(4) + Array("Cam\0".utf8)
                + u16(0x0112) + u16(3) + u32(1) + u16(orientation) + [0, 0]
                + u32(0)
            let body = Array("Exif\0\0".utf8) + tiff
            bytes += [0xFF, 0xE1, UInt8((body.count + 2) >> 8), UInt8((body.count + 2) & 0xFF)] + body
        }
        bytes += [0xFF, 0xC0, 0x00, 0x11, 8, UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF), 3]
            + Array(repeating: 0x11, count: 9)
        bytes += [0xFF, 0xDA, 0x00, 0x08] + Array(repeating: 0, count: 6) + Array(repeating: 0x55, count: 32) + [0xFF, 0xD9]
        return bytes
    }
}
