import XCTVapor
@testable import ChatrServer

final class ImageUploadTests: ChatrTestCase {
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 0x42, count: 100)
    static let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 0x11, count: 100)
    static let webp: [UInt8] = Array("RIFF".utf8) + [0x24, 0, 0, 0] + Array("WEBPVP8 ".utf8) + Array(repeating: 0, count: 40)

    func storedPath(_ url: String) throws -> String {
        let key = try XCTUnwrap(url.components(separatedBy: "/uploads/").last)
        return uploadsDirectory + "/" + key
    }

    func testUploadServeReplaceAndDeleteAProfileImage() async throws {
        let ann = try await makeUser("ann")
        let first = try await upload("/api/users/profile-image", field: "profileImage", filename: "../../etc/passwd", contentType: "text/plain",
                                     data: Self.png, token: ann.token)
        XCTAssertEqual(first.status, .ok, first.text)
        let url = try XCTUnwrap(first.json["profileImage"]?.string)
        XCTAssertTrue(url.hasPrefix("http://localhost:3001/uploads/profile/"))
        XCTAssertTrue(url.hasSuffix(".png"), "the extension comes from the bytes, the client's name is ignored")
        XCTAssertFalse(url.contains("passwd"))
        XCTAssertEqual(FileManager.default.contents(atPath: try storedPath(url)).map(Array.init), Self.png)

        let served = try await send(.GET, String(url.dropFirst("http://localhost:3001".count)))
        XCTAssertEqual(served.status, .ok)
        XCTAssertEqual(Array(served.body.readableBytesView), Self.png)
        XCTAssertEqual(served.headers.first(name: "Cross-Origin-Resource-Policy"), "cross-origin")

        let me = try await send(.GET, "/api/users/me", token: ann.token)
        XCTAssertEqual(me.json["profileImage"]?.string, url)

        let second = try await upload("/api/users/profile-image", field: "profileImage", filename: "me.jpg", contentType: "image/jpeg",
                                      data: Self.jpeg, token: ann.token)
        XCTAssertEqual(second.status, .ok)
        XCTAssertFalse(FileManager.default.fileExists(atPath: try storedPath(url)), "the replaced file is deleted")
        let secondURL = try XCTUnwrap(second.json["profileImage"]?.string)

        let deleted = try await send(.DELETE, "/api/users/profile-image", token: ann.token)
        XCTAssertEqual(deleted.status, .ok)
        XCTAssertEqual(deleted.json["profileImage"], .null)
        XCTAssertFalse(FileManager.default.fileExists(atPath: try storedPath(secondURL)))
        let after = try await send(.GET, "/api/users/me", token: ann.token)
        XCTAssertEqual(after.json["profileImage"], .null)
    }

    func testCoverImageAcceptsWebPUpToTenMegabytes() async throws {
        let ann = try await makeUser("ann")
        let reply = try await upload("/api/users/cover-image", field: "coverImage", filename: "c.webp", contentType: "image/webp", data: Self.webp, token: ann.token)
        XCTAssertEqual(reply.status, .ok, reply.text)
        XCTAssertTrue(reply.json["coverImage"]?.string?.hasSuffix(".webp") == true)
        let sevenMB = Self.png + Array(repeating: 0, count: 5 * 1024 * 1024 + 1)
        let big = try await upload("/api/users/cover-image", field: "coverImage", filename: "c.png", contentType: "image/png", data: sevenMB, token: ann.token)
        XCTAssertEqual(big.status, .ok, "over 5 MB is fine for a cover")
        let profileTooBig = try await upload("/api/users/profile-image", field: "profileImage", filename: "p.png", contentType: "image/png", data: sevenMB, token: ann.token)
        XCTAssertEqual(profileTooBig.status, .payloadTooLarge, "but not for a profile image")
        XCTAssertNotNil(profileTooBig.error)
    }

    func testFakeAndOversizeImagesStoreNothing() async throws {
        let ann = try await makeUser("ann")
        let text = Array("<html><script>alert(1)</script></html>".utf8)
        let fake = try await upload("/api/users/profile-image", field: "profileImage", filename: "x.png", contentType: "image/png", data: text, token: ann.token)
        XCTAssertEqual(fake.status, .unsupportedMediaType)
        XCTAssertEqual(fake.json["code"], "unsupported_image")
        let gif = try await upload("/api/users/profile-image", field: "profileImage", filename: "x.gif", contentType: "image/gif", data: Array("GIF89a".utf8) + [0, 0], token: ann.token)
        XCTAssertEqual(gif.status, .unsupportedMediaType)
        let wrongField = try await upload("/api/users/profile-image", field: "avatar", filename: "x.png", contentType: "image/png", data: Self.png, token: ann.token)
        XCTAssertEqual(wrongField.status, .badRequest)
        let elevenMB = Self.png + Array(repeating: 0, count: 11 * 1024 * 1024)
        let huge = try await upload("/api/users/cover-image", field: "coverImage", filename: "c.png", contentType: "image/png", data: elevenMB, token: ann.token)
        XCTAssertEqual(huge.status, .payloadTooLarge)
        let json = try await send(.POST, "/api/users/profile-image", json: ["profileImage": "data"], token: ann.token)
        XCTAssertEqual(json.status, .unsupportedMediaType)
        let anonymous = try await upload("/api/users/profile-image", field: "profileImage", filename: "x.png", contentType: "image/png", data: Self.png, token: nil)
        XCTAssertEqual(anonymous.status, .unauthorized)

        let files = FileManager.default.enumerator(atPath: uploadsDirectory)?.allObjects ?? []
        // The (empty) staging folder may exist; no file, staged or stored, does.
        XCTAssertTrue(files.compactMap { $0 as? String }.filter { $0.contains(".") && $0 != ".staging" }.isEmpty, "nothing was written: \(files)")
        let me = try await send(.GET, "/api/users/me", token: ann.token)
        XCTAssertEqual(me.json["profileImage"], .null)
    }

    func testUploadsCannotEscapeTheirFolder() async throws {
        try FileManager.default.createDirectory(atPath: uploadsDirectory, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: uploadsDirectory + "/../secret.txt", contents: Data("secret".utf8))
        defer { try? FileManager.default.removeItem(atPath: uploadsDirectory + "/../secret.txt") }
        for path in ["/uploads/../secret.txt", "/uploads/%2e%2e/secret.txt", "/uploads/.hidden", "/uploads/profile/missing.png"] {
            let reply = try await send(.GET, path)
            // Vapor refuses ".." itself (403); anything else is simply not there (404).
            XCTAssertTrue([.notFound, .forbidden].contains(reply.status), "\(path): \(reply.status)")
            XCTAssertNotNil(reply.error, path)
            XCTAssertFalse(reply.text.contains("secret"), path)
        }
        XCTAssertFalse(LocalFileStorage.isSafe("../x"))
        XCTAssertFalse(LocalFileStorage.isSafe("a//b"))
        XCTAssertFalse(LocalFileStorage.isSafe("a/.ssh"))
        XCTAssertTrue(LocalFileStorage.isSafe("profile/0b5c.png"))
    }
}
