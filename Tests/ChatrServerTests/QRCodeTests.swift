import Foundation
import XCTest
@testable import ChatrServer

final class QRCodeTests: XCTestCase {
    /// The worked example of ISO/IEC 18004 Annex I ("01234567", version 1-M): its 16 data
    /// codewords and the 10 error-correction codewords the standard gives for them.
    func testReedSolomonMatchesTheStandardsExample() {
        let data: [UInt8] = [0x10, 0x20, 0x0C, 0x56, 0x61, 0x80, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11]
        let ec = ReedSolomon.remainder(of: data, generator: ReedSolomon.generator(degree: 10))
        XCTAssertEqual(ec, [0xA5, 0x24, 0xD4, 0xC1, 0xED, 0x36, 0xC7, 0x87, 0x2C, 0x55])
    }

    func testFormatBitsMatchTheStandardsTable() {
        // Level M, masks 0…7 (ISO/IEC 18004 Table C.1).
        let expected = [0x5412, 0x5125, 0x5E7C, 0x5B4B, 0x45F9, 0x40CE, 0x4F97, 0x4AA0]
        XCTAssertEqual((0..<8).map { QRCode.formatBits(mask: $0) }, expected)
    }

    func testPicksTheSmallestVersionThatFits() throws {
        XCTAssertEqual(try QRCode.encode(Array(repeating: 65, count: 14)).version, 1)
        XCTAssertEqual(try QRCode.encode(Array(repeating: 65, count: 15)).version, 2)
        XCTAssertEqual(try QRCode.encode(Array(repeating: 65, count: 120)).version, 7)
        XCTAssertEqual(try QRCode.encode(Array(repeating: 65, count: 213)).version, 10)
        XCTAssertThrowsError(try QRCode.encode(Array(repeating: 65, count: 214)))
    }

    func testFinderPatternsAndTimingAreInPlace() throws {
        let code = try QRCode.encode(Array("otpauth://totp/x".utf8))
        let m = code.modules
        for (x, y) in [(0, 0), (code.size - 7, 0), (0, code.size - 7)] {
            XCTAssertTrue(m[y][x] && m[y + 6][x + 6] && m[y + 3][x + 3], "finder at \(x),\(y)")
            XCTAssertFalse(m[y + 1][x + 1], "finder ring at \(x),\(y)")
        }
        for i in 8..<(code.size - 8) { XCTAssertEqual(m[6][i], i % 2 == 0, "timing at \(i)") }
        XCTAssertTrue(m[code.size - 8][8], "dark module")
    }

    /// The real check: a QR reader (zbar, installed by .ci/run) decodes what we draw, for short
    /// and long otpauth URIs (versions 4 to 10, with and without version information).
    func testAScannerReadsTheCode() throws {
        let zbarimg = ["/usr/bin/zbarimg", "/usr/local/bin/zbarimg"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let zbarimg else { throw XCTSkip("zbarimg is not installed (apt-get install zbar-tools)") }
        let secret = Base32.encode(Array(0..<20))
        let payloads = [
            "otpauth://totp/Chatr:@ann?secret=\(secret)&issuer=Chatr",
            TimeOTP(secret: Array(0..<20)).provisioningURI(account: "someone.with.a.long.address@example.com", issuer: "Chatr"),
            TimeOTP(secret: Array(0..<20)).provisioningURI(account: String(repeating: "x", count: 40) + "@example.com", issuer: "Chatr Community Server"),
        ]
        var versions: [Int] = []
        for payload in payloads {
            let code = try QRCode.encode(Array(payload.utf8))
            versions.append(code.version)
            let path = NSTemporaryDirectory() + "qr-\(UUID().uuidString).pgm"
            defer { try? FileManager.default.removeItem(atPath: path) }
            try code.pgm().write(to: URL(fileURLWithPath: path))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: zbarimg)
            process.arguments = ["--raw", "-q", path]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            XCTAssertEqual(String(decoding: output, as: UTF8.self).trimmingCharacters(in: .newlines), payload, "version \(code.version)")
        }
        XCTAssertGreaterThanOrEqual(versions.max() ?? 0, 8, "a version with version-information blocks was scanned")
    }

    func testSVGDataURL() throws {
        let url = try QRCode.encode(Array("hello".utf8)).svgDataURL()
        XCTAssertTrue(url.hasPrefix("data:image/svg+xml;base64,"))
        let svg = String(decoding: Data(base64Encoded: String(url.dropFirst("data:image/svg+xml;base64,".count)))!, as: UTF8.self)
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertTrue(svg.contains("<path"))
    }
}
