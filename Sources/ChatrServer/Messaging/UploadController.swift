import Vapor

/// `POST /api/messages/upload` (SPEC §6): a file becomes a message. The body is streamed to a
/// staged file on disk (memory stays flat whatever the size); the type comes from the bytes; the
/// message is stored and delivered here, like any send. No error leaves a file behind.
/// An upload refused before its body is all in (over the limit by its `Content-Length` or on the
/// way, or malformed halfway) is answered at once with `Connection: close`, and the connection is
/// closed once the rest has been dropped (`MultipartUpload.Refusal`); every other answer leaves
/// the connection usable for the next request.
struct UploadController: RouteCollection {
    let maxUploadBytes: Int

    func boot(routes: any RoutesBuilder) throws {
        routes.grouped(UserAuthMiddleware())
            .on(.POST, "api", "messages", "upload", body: .stream, use: upload)
    }

    struct UploadResponse: Content {
        var success: Bool
        var messageId: String
        var message: MessageDTO
        var fileUrl: String?
        var fileName: String?
        var fileSize: Int?
        var fileType: String?
        var waveform: [Double]?
        var duration: Double?
        var needsWaveformGeneration: Bool
    }

    @Sendable func upload(_ req: Request) async throws -> Response {
        let staging = req.chatr.config.uploadsDirectory + "/.staging"
        let form: MultipartUpload
        do {
            form = try await MultipartUpload.read(req, fileField: "file", maxFileBytes: maxUploadBytes, stagingDirectory: staging)
        } catch let refusal as MultipartUpload.Refusal {
            return refusal.response(for: req)
        }
        guard let file = form.file else { throw ChatrError.badRequest("Missing file field 'file'", code: "missing_file") }
        // Whatever happens next, the staged file goes: stored (moved) or removed.
        defer { file.remove() }
        if form.fields.values.contains(where: { $0.utf8.contains(0) }) { throw NULText.refusal }
        guard file.size > 0 else { throw ChatrError.badRequest("Missing file field 'file'", code: "missing_file") }
        guard let kind = FileSniffer.sniff(head: file.head, size: file.size) else {
            throw ChatrError(.unsupportedMediaType, "This kind of file is not supported", code: "unsupported_file")
        }
        func field(_ name: String) -> String? { form.fields[name].flatMap { $0.isEmpty ? nil : $0 } }
        let waveform = try field("waveform").map { raw -> [Double] in
            guard let values = try? JSONDecoder().decode([Double].self, from: Data(raw.utf8)) else {
                throw ChatrError.badRequest("waveform must be a JSON array of numbers", code: "invalid_waveform")
            }
            if let problem = Attachment.waveformProblem(values) { throw ChatrError.badRequest(problem, code: "invalid_waveform") }
            return values
        }
        var duration = try field("duration").map { raw -> Double in
            guard let value = Double(raw), Attachment.durationProblem(value) == nil else {
                throw ChatrError.badRequest("duration must be a number of seconds", code: "invalid_duration")
            }
            return value
        }
        if kind.isAudio, let measured = await req.chatr.audioProbe.duration(ofFileAt: file.path) {
            duration = measured  // what the file says beats what the client says
        }
        let caption = field("caption")?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let caption, caption.textLength > Attachment.maxCaption {
            throw ChatrError.badRequest("Captions are at most \(Attachment.maxCaption) characters", code: "caption_too_long")
        }
        let attachment = Attachment(file: file, kind: kind,
                                    fileName: Attachment.cleanFileName(form.fileName, fallbackExtension: kind.fileExtension),
                                    caption: caption, waveform: waveform, duration: duration, isVoice: field("type") == "voice",
                                    imageSize: ImageSize.of(fileAt: file.path, kind: kind))
        var input = try MessageService.SendInput(recipientId: field("recipientId"), groupId: field("groupId"), conversationId: nil,
                                                 content: "", type: nil, clientMessageId: field("clientMessageId"), replyToId: field("replyToId"))
        input.attachment = attachment
        let result = try await SendCommand(services: req.chatr, db: req.db).run(input, from: try req.currentUser)
        let message = result.message
        let body = UploadResponse(success: true, messageId: message.id, message: message, fileUrl: message.fileUrl, fileName: message.fileName,
                                  fileSize: message.fileSize, fileType: message.fileType, waveform: message.waveform, duration: message.duration,
                                  needsWaveformGeneration: kind.isAudio && waveform == nil)
        return try await body.encodeResponse(status: result.created ? .created : .ok, for: req)
    }
}
