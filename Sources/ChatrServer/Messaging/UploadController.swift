import Vapor

/// `POST /api/messages/upload` (SPEC §6): a file becomes a message. The type comes from the
/// bytes; the message is stored and delivered here, like any send.
struct UploadController: RouteCollection {
    let maxUploadBytes: Int

    func boot(routes: any RoutesBuilder) throws {
        // Vapor stops reading (413) once the body passes this, without holding the rest.
        routes.grouped(UserAuthMiddleware())
            .on(.POST, "api", "messages", "upload", body: .collect(maxSize: ByteCount(value: maxUploadBytes + 64 * 1024)), use: upload)
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
        guard req.headers.contentType?.type == "multipart" else {
            throw ChatrError(.unsupportedMediaType, "Send the file as multipart/form-data in the field 'file'")
        }
        guard let file = try? req.content.get(File.self, at: "file"), file.data.readableBytes > 0 else {
            throw ChatrError.badRequest("Missing file field 'file'", code: "missing_file")
        }
        guard file.data.readableBytes <= maxUploadBytes else {
            throw ChatrError(.payloadTooLarge, "Files must be at most \(maxUploadBytes / 1024 / 1024) MB")
        }
        guard let kind = FileSniffer.sniff(file.data.readableBytesView) else {
            throw ChatrError(.unsupportedMediaType, "This kind of file is not supported", code: "unsupported_file")
        }
        func field(_ name: String) -> String? {
            (try? req.content.get(String.self, at: name)).flatMap { $0.isEmpty ? nil : $0 }
        }
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
        if kind.isAudio, let measured = await req.chatr.audioProbe.duration(of: file.data, fileExtension: kind.fileExtension) {
            duration = measured  // what the file says beats what the client says
        }
        let caption = field("caption")?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let caption, caption.count > Attachment.maxCaption {
            throw ChatrError.badRequest("Captions are at most \(Attachment.maxCaption) characters", code: "caption_too_long")
        }
        let type = field("type")
        let attachment = Attachment(data: file.data, kind: kind,
                                    fileName: Attachment.cleanFileName(file.filename, fallbackExtension: kind.fileExtension),
                                    caption: caption, waveform: waveform, duration: duration, isVoice: type == "voice")
        var input = try MessageController.sendInput(recipientId: field("recipientId"), groupId: field("groupId"), conversationId: nil,
                                                    content: "", type: nil, clientMessageId: field("clientMessageId"), replyToId: field("replyToId"))
        input.attachment = attachment
        let result = try await MessageService(services: req.chatr, db: req.db).send(from: try req.currentUser, input)
        req.chatr.events.publish(result.events)
        let message = result.message
        let body = UploadResponse(success: true, messageId: message.id, message: message, fileUrl: message.fileUrl, fileName: message.fileName,
                                  fileSize: message.fileSize, fileType: message.fileType, waveform: message.waveform, duration: message.duration,
                                  needsWaveformGeneration: kind.isAudio && waveform == nil)
        return try await body.encodeResponse(status: result.created ? .created : .ok, for: req)
    }
}
