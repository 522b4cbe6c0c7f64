import XCTVapor
@testable import ChatrServer

/// `POST /api/messages/upload` and `PATCH /api/messages/:id/waveform` (SPEC §6).
final class UploadTests: ChatrTestCase {
    var ann: (id: String, token: String)!
    var bob: (id: String, token: String)!

    override func adjust(_ config: inout AppConfig) { config.maxUploadBytes = 1024 * 1024 }

    override func setUp() async throws {
        try await super.setUp()
        ann = try await makeUser("ann")
        bob = try await makeUser("bob")
    }

    static let samples: [(name: String, bytes: [UInt8], type: String, mime: String)] = [
        ("photo.png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 1, count: 64), "image", "image/png"),
        ("anim.gif", Array("GIF89a".utf8) + Array(repeating: 0, count: 32), "image", "image/gif"),
        ("song.mp3", Array("ID3".utf8) + Array(repeating: 0, count: 64), "audio", "audio/mpeg"),
        ("note.ogg", Array("OggS".utf8) + Array(repeating: 0, count: 64), "audio", "audio/ogg"),
        ("take.wav", Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WAVE".utf8) + Array(repeating: 0, count: 32), "audio", "audio/wav"),
        ("clip.mp4", [0, 0, 0, 0x18] + Array("ftypisom".utf8) + Array(repeating: 0, count: 32), "video", "video/mp4"),
        ("memo.m4a", [0, 0, 0, 0x18] + Array("ftypM4A ".utf8) + Array(repeating: 0, count: 32), "audio", "audio/mp4"),
        ("doc.pdf", Array("%PDF-1.7\n".utf8) + Array(repeating: 0x20, count: 32), "file", "application/pdf"),
        ("notes.txt", Array("Shopping: eggs, milk, 🍞\n".utf8), "file", "text/plain"),
    ]

    func upload(_ sample: (name: String, bytes: [UInt8], type: String, mime: String), to recipient: String,
                fields: [String: String] = [:], token: String? = nil) async throws -> Reply {
        var all = fields
        all["recipientId"] = recipient
        return try await upload("/api/messages/upload", field: "file", filename: sample.name, contentType: "application/octet-stream",
                                data: sample.bytes, fields: all, token: token ?? ann.token)
    }

    /// Every file under the uploads folder, staged leftovers included (the staging folder
    /// itself is not a file).
    func storedFiles() -> [String] {
        (FileManager.default.enumerator(atPath: uploadsDirectory)?.allObjects as? [String] ?? []).filter { $0.contains(".") && $0 != ".staging" }
    }

    func testEveryAllowedKindIsRecognisedByItsBytes() async throws {
        for sample in Self.samples {
            let reply = try await upload(sample, to: bob.id)
            XCTAssertEqual(reply.status, .created, "\(sample.name): \(reply.text)")
            XCTAssertEqual(reply.json["success"], true)
            XCTAssertEqual(reply.json["fileType"]?.string, sample.mime, sample.name)
            XCTAssertEqual(reply.json["message"]?["type"]?.string, sample.type, sample.name)
            XCTAssertEqual(reply.json["fileName"]?.string, sample.name)
            XCTAssertEqual(reply.json["fileSize"]?.int, sample.bytes.count)
            let url = try XCTUnwrap(reply.json["fileUrl"]?.string)
            let served = try await send(.GET, String(url.dropFirst("http://localhost:3001".count)))
            XCTAssertEqual(Array(served.body.readableBytesView), sample.bytes, sample.name)
        }
        XCTAssertEqual(storedFiles().count, Self.samples.count)
    }

    /// An image message says its size, as shown (EXIF turns included), in the reply, the event
    /// and the history; other files and unreadable headers say null.
    func testImagesCarryTheirSize() async throws {
        let turned = ("photo.jpg", ImageSizeTests.jpeg(width: 400, height: 300, orientation: 6, bigEndian: false), "image", "image/jpeg")
        let reply = try await upload(turned, to: bob.id)
        XCTAssertEqual(reply.status, .created, reply.text)
        XCTAssertEqual(reply.json["message"]?["imageWidth"], 300)
        XCTAssertEqual(reply.json["message"]?["imageHeight"], 400)
        let unreadable = try await upload(Self.samples[0], to: bob.id)  // a PNG signature and no IHDR
        XCTAssertEqual(unreadable.json["message"]?["type"], "image")
        XCTAssertEqual(unreadable.json["message"]?["imageWidth"], .null)
        let pdf = try await upload(Self.samples[7], to: bob.id)
        XCTAssertEqual(pdf.json["message"]?["imageHeight"], .null)
        let history = try await send(.GET, "/api/messages/history?otherUserId=\(ann.id)", token: bob.token)
        let stored = history.json["messages"]?.array?.first { $0["id"] == reply.json["messageId"] }
        XCTAssertEqual(stored?["imageWidth"], 300)
        XCTAssertEqual(stored?["imageHeight"], 400)
    }

    func testAudioGetsAPlaceholderWaveformUntilTheRealOne() async throws {
        let mp3 = Self.samples[2]
        let reply = try await upload(mp3, to: bob.id, fields: ["duration": "12.5", "type": "voice"])
        XCTAssertEqual(reply.json["needsWaveformGeneration"], true)
        XCTAssertEqual(reply.json["message"]?["type"], "voice")
        let waveform = try XCTUnwrap(reply.json["waveform"]?.array?.compactMap { $0.asDouble })
        XCTAssertEqual(waveform.count, 100)
        XCTAssertTrue(waveform.allSatisfy { (0.04...0.9).contains($0) })
        XCTAssertEqual(reply.json["duration"]?.asDouble, 12.5)
        let again = try await upload(mp3, to: bob.id)
        XCTAssertEqual(again.json["waveform"], reply.json["waveform"], "the same file gets the same placeholder")

        let given = try await upload(mp3, to: bob.id, fields: ["waveform": "[0.1,0.5,1]"])
        XCTAssertEqual(given.json["needsWaveformGeneration"], false)
        XCTAssertEqual(given.json["waveform"], [0.1, 0.5, 1])

        let id = try XCTUnwrap(reply.json["messageId"]?.string)
        let patched = try await send(.PATCH, "/api/messages/\(id)/waveform", json: ["waveform": [0.2, 0.3], "duration": 3], token: ann.token)
        XCTAssertEqual(patched.status, .ok)
        let history = try await send(.GET, "/api/messages/history?otherUserId=\(bob.id)", token: ann.token)
        XCTAssertEqual(history.json["messages"]?.array?.first?["waveform"], [0.2, 0.3])
        XCTAssertEqual(history.json["messages"]?.array?.first?["duration"]?.asDouble, 3)

        for body: JSONValue in [["waveform": []], ["waveform": [1.5]], ["waveform": .array(Array(repeating: 0.5, count: 201))],
                                ["waveform": ["x"]], ["waveform": [0.5], "duration": -1]] {
            let bad = try await send(.PATCH, "/api/messages/\(id)/waveform", json: body, token: ann.token)
            XCTAssertEqual(bad.status, .badRequest, "\(body)")
        }
        let cat = try await makeUser("cat")
        let outsider = try await send(.PATCH, "/api/messages/\(id)/waveform", json: ["waveform": [0.5]], token: cat.token)
        XCTAssertEqual(outsider.status, .forbidden)
        let text = try await send(.POST, "/api/messages", json: ["recipientId": .string(bob.id), "content": "hi"], token: ann.token)
        let notAudio = try await send(.PATCH, "/api/messages/\(text.json["id"]!.string!)/waveform", json: ["waveform": [0.5]], token: ann.token)
        XCTAssertEqual(notAudio.status, .badRequest)
    }

    func testRefusedUploadsStoreNothing() async throws {
        let exe: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00] + Array(repeating: 0, count: 64)
        let unsupported = try await upload(("app.png", exe, "", ""), to: bob.id)
        XCTAssertEqual(unsupported.status, .unsupportedMediaType)
        let tooBig = try await upload(("big.png", Self.samples[0].bytes + Array(repeating: 0, count: 1024 * 1024), "", ""), to: bob.id)
        XCTAssertEqual(tooBig.status, .payloadTooLarge)
        let toSelf = try await upload(Self.samples[0], to: ann.id)
        XCTAssertEqual(toSelf.status, .badRequest)
        let toNobody = try await upload(Self.samples[0], to: UUID().uuidString)
        XCTAssertEqual(toNobody.status, .notFound)
        let badWaveform = try await upload(Self.samples[2], to: bob.id, fields: ["waveform": "[2]"])
        XCTAssertEqual(badWaveform.status, .badRequest)
        let badReply = try await upload(Self.samples[0], to: bob.id, fields: ["replyToId": UUID().uuidString])
        XCTAssertEqual(badReply.status, .badRequest)
        let longCaption = try await upload(Self.samples[0], to: bob.id, fields: ["caption": String(repeating: "c", count: 1001)])
        XCTAssertEqual(longCaption.status, .badRequest)
        let anonymous = try await upload("/api/messages/upload", field: "file", filename: "a.png", contentType: "image/png",
                                         data: Self.samples[0].bytes, fields: ["recipientId": bob.id], token: nil)
        XCTAssertEqual(anonymous.status, .unauthorized)
        let noFile = try await upload("/api/messages/upload", field: "other", filename: "a.png", contentType: "image/png",
                                      data: Self.samples[0].bytes, fields: ["recipientId": bob.id], token: ann.token)
        XCTAssertEqual(noFile.status, .badRequest)
        XCTAssertEqual(storedFiles(), [], "no file is left on any error")
        let messages = try await Message.query(on: app.db).count()
        XCTAssertEqual(messages, 0)
    }

    func testAZipNamedPNGAndATruncatedBodyAreRefused() async throws {
        let zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + Array("payload/evil.exe".utf8) + Array(repeating: 0, count: 64)
        let fake = try await upload(("holiday.png", zip, "", ""), to: bob.id)
        XCTAssertEqual(fake.status, .unsupportedMediaType, "a ZIP is not an image, whatever its name")

        let docx: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + Array("[Content_Types].xml word/document.xml".utf8) + Array(repeating: 0, count: 64)
        let word = try await upload(("cv.docx", docx, "", ""), to: bob.id)
        XCTAssertEqual(word.status, .created)
        XCTAssertEqual(word.json["fileType"]?.string, "application/vnd.openxmlformats-officedocument.wordprocessingml.document")

        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=cut")
        headers.bearerAuthorization = .init(token: ann.token)
        let truncated = "--cut\r\nContent-Disposition: form-data; name=\"recipientId\"\r\n\r\n\(bob.id)\r\n--cut\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n\u{89}PNG"
        let response = try await app.sendRequest(.POST, "/api/messages/upload", headers: headers, body: ByteBuffer(string: truncated))
        XCTAssertEqual(response.status, .badRequest)
        XCTAssertEqual(storedFiles().count, 1, "only the Word document was stored")
    }

    func testIdempotentUploadsAndCaptionsAndUnsend() async throws {
        let first = try await upload(Self.samples[0], to: bob.id, fields: ["clientMessageId": "up-1", "caption": " Look! "])
        XCTAssertEqual(first.status, .created)
        XCTAssertEqual(first.json["message"]?["caption"], "Look!")
        let retry = try await upload(Self.samples[0], to: bob.id, fields: ["clientMessageId": "up-1"])
        XCTAssertEqual(retry.status, .ok)
        XCTAssertEqual(retry.json["messageId"], first.json["messageId"])
        XCTAssertEqual(storedFiles().count, 1, "a retried upload stores no second file")

        let id = try XCTUnwrap(UUID(uuidString: first.json["messageId"]!.string!))
        let annUser = try await User.find(UUID(uuidString: ann.id), on: app.db)
        _ = try await MessageService(services: services, db: app.db).unsend(id, by: try XCTUnwrap(annUser))
        let history = try await send(.GET, "/api/messages/history?otherUserId=\(ann.id)", token: bob.token)
        let shown = try XCTUnwrap(history.json["messages"]?.array?.first)
        XCTAssertEqual(shown["fileUrl"], .null)
        XCTAssertEqual(shown["caption"], .null)
        XCTAssertEqual(shown["unsent"], true)
    }

    func testOnlyTextMessagesCanBeEdited() async throws {
        let image = try await upload(Self.samples[0], to: bob.id)
        let id = try XCTUnwrap(UUID(uuidString: image.json["messageId"]!.string!))
        let annUser = try await User.find(UUID(uuidString: ann.id), on: app.db)
        await XCTAssertThrowsChatrError(.badRequest) {
            _ = try await MessageService(services: self.services, db: self.app.db).edit(id, content: "a caption?", by: try XCTUnwrap(annUser))
        }
        let edits = try await MessageEdit.query(on: app.db).count()
        XCTAssertEqual(edits, 0)
    }

    func testFileNamesAreCleaned() {
        XCTAssertEqual(Attachment.cleanFileName("../../etc/passwd", fallbackExtension: "txt"), "passwd")
        XCTAssertEqual(Attachment.cleanFileName("C:\\Users\\me\\photo.png", fallbackExtension: "png"), "photo.png")
        XCTAssertEqual(Attachment.cleanFileName("bad\u{0}\nname.pdf", fallbackExtension: "pdf"), "badname.pdf")
        XCTAssertEqual(Attachment.cleanFileName("..", fallbackExtension: "pdf"), "file.pdf")
    }
}

extension JSONValue {
    var asDouble: Double? { if case .number(let value) = self { return value } else { return nil } }
}

final class AudioDurationTests: ChatrTestCase {
    /// A real 16-bit mono WAV of `seconds` at 8 kHz.
    static func wav(seconds: Double) -> [UInt8] {
        let rate = 8000, samples = Int(Double(rate) * seconds)
        func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        func le16(_ v: Int) -> [UInt8] { (0..<2).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        let data = (0..<samples).flatMap { le16(Int(3000 * sin(Double($0) / 8)) & 0xFFFF) }
        return Array("RIFF".utf8) + le32(36 + data.count) + Array("WAVEfmt ".utf8) + le32(16) + le16(1) + le16(1)
            + le32(rate) + le32(rate * 2) + le16(2) + le16(16) + Array("data".utf8) + le32(data.count) + data
    }

    func testTheFilesOwnDurationBeatsTheClients() async throws {
        guard AudioProbe.find() != nil else { throw XCTSkip("ffprobe is not installed (apt-get install ffmpeg); the client's duration stands") }
        let ann = try await makeUser("ann")
        let bob = try await makeUser("bob")
        let reply = try await upload("/api/messages/upload", field: "file", filename: "a.wav", contentType: "audio/wav",
                                     data: Self.wav(seconds: 1.5), fields: ["recipientId": bob.id, "duration": "99"], token: ann.token)
        XCTAssertEqual(reply.status, .created, reply.text)
        let duration = try XCTUnwrap(reply.json["duration"]?.asDouble)
        XCTAssertEqual(duration, 1.5, accuracy: 0.01)
    }

    func testWithoutAProbeTheClientsDurationStands() async throws {
        let probe = AudioProbe(executable: nil, threadPool: app.threadPool)
        let path = NSTemporaryDirectory() + "chatr-probe-\(UUID().uuidString).wav"
        FileManager.default.createFile(atPath: path, contents: Data(Self.wav(seconds: 1)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let measured = await probe.duration(ofFileAt: path)
        XCTAssertNil(measured)
    }
}
