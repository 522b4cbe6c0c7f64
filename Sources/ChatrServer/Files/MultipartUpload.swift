import Vapor

/// Reads a multipart/form-data request body as it streams in: the one file field goes straight
/// to a `FileStager` on disk, the other (small) fields are kept as text. Nothing waits for the
/// whole body in memory. Any failure deletes the partial file.
struct MultipartUpload {
    var fields: [String: String] = [:]
    var file: StagedFile?
    var fileName = ""

    /// Text fields together may hold this much (captions, waveforms, ids).
    static let maxFieldBytes = 64 * 1024

    static func read(_ req: Request, fileField: String, maxFileBytes: Int, stagingDirectory: String) async throws -> MultipartUpload {
        guard let contentType = req.headers.contentType, contentType.type == "multipart", contentType.subType == "form-data",
              let boundary = contentType.parameters["boundary"], !boundary.isEmpty else {
            throw ChatrError(.unsupportedMediaType, "Send the file as multipart/form-data in the field '\(fileField)'")
        }
        let reader = Reader(fileField: fileField, maxFileBytes: maxFileBytes, stagingDirectory: stagingDirectory, boundary: boundary)
        do {
            for try await (chunk, ack) in req.bodyChunks() {
                do {
                    try reader.feed(chunk)
                    ack.succeed()
                } catch {
                    ack.fail(error)  // stops Vapor reading the rest of the body
                    throw error
                }
            }
            return try reader.finish()
        } catch {
            reader.discard()
            switch error {
            case FileStager.Failure.tooLarge:
                throw ChatrError(.payloadTooLarge, "Files must be at most \(maxFileBytes / 1024 / 1024) MB")
            case is MultipartError, is MultipartUpload.Problem:
                throw ChatrError.badRequest("The multipart body is malformed or incomplete", code: "invalid_multipart")
            default:
                throw error
            }
        }
    }

    enum Problem: Error { case fieldsTooLarge, incomplete }

    /// The parser's callbacks cannot throw, so failures are remembered and raised after each chunk.
    private struct Reader {
        let fileField: String
        let maxFileBytes: Int
        let stagingDirectory: String
        let parser: MultipartParser
        let state = Box()

        final class Box {
            var headers: [String: String] = [:]
            var part: Part = .none
            var stager: FileStager?
            var fieldBytes = 0
            var fieldBuffer: [UInt8] = []
            var result = MultipartUpload()
            var failure: (any Error)?
            var fileComplete = false
        }

        enum Part { case none, file, field(String), ignored }

        init(fileField: String, maxFileBytes: Int, stagingDirectory: String, boundary: String) {
            self.fileField = fileField
            self.maxFileBytes = maxFileBytes
            self.stagingDirectory = stagingDirectory
            parser = MultipartParser(boundary: boundary)
            let state = self.state
            parser.onHeader = { name, value in state.headers[name.lowercased()] = value }
            parser.onBody = { buffer in
                guard state.failure == nil else { return }
                do {
                    if case .none = state.part { state.part = try Self.classify(state, fileField: fileField, maxFileBytes: maxFileBytes, directory: stagingDirectory) }
                    switch state.part {
                    case .file: try state.stager?.append(buffer)
                    case .field:
                        state.fieldBytes += buffer.readableBytes
                        guard state.fieldBytes <= MultipartUpload.maxFieldBytes else { throw Problem.fieldsTooLarge }
                        state.fieldBuffer.append(contentsOf: buffer.readableBytesView)
                    case .ignored, .none: break
                    }
                } catch {
                    state.failure = error
                }
            }
            parser.onPartComplete = {
                guard state.failure == nil else { return }
                do {
                    // A part with an empty body never called onBody: classify it now.
                    if case .none = state.part { state.part = try Self.classify(state, fileField: fileField, maxFileBytes: maxFileBytes, directory: stagingDirectory) }
                    switch state.part {
                    case .file:
                        if var stager = state.stager {
                            state.result.file = try stager.finish()
                            state.stager = nil
                            state.fileComplete = true
                        }
                    case .field(let name):
                        state.result.fields[name] = String(decoding: state.fieldBuffer, as: UTF8.self)
                    case .ignored, .none: break
                    }
                } catch {
                    state.failure = error
                }
                state.headers = [:]
                state.part = .none
                state.fieldBuffer = []
            }
        }

        static func classify(_ state: Box, fileField: String, maxFileBytes: Int, directory: String) throws -> Part {
            let disposition = MultipartUpload.disposition(state.headers["content-disposition"] ?? "")
            guard let name = disposition["name"] else { return .ignored }
            if name == fileField, state.result.file == nil, state.stager == nil {
                state.result.fileName = disposition["filename"] ?? ""
                state.stager = try FileStager(directory: directory, limit: maxFileBytes)
                return .file
            }
            return disposition["filename"] == nil ? .field(name) : .ignored
        }

        func feed(_ chunk: ByteBuffer) throws {
            try parser.execute(chunk)
            if let failure = state.failure { throw failure }
        }

        func finish() throws -> MultipartUpload {
            if let failure = state.failure { throw failure }
            // A body cut off inside the file part never completed it.
            guard state.stager == nil else { throw Problem.incomplete }
            return state.result
        }

        func discard() {
            state.stager?.discard()
            state.stager = nil
            state.result.file?.remove()
        }
    }
}

extension MultipartUpload {
    /// The parameters of `Content-Disposition: form-data; name="file"; filename="a b.png"`
    /// (quoted values may hold `;`, and `\"` inside quotes).
    static func disposition(_ header: String) -> [String: String] {
        var result: [String: String] = [:]
        var parts: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in header {
            if escaped { current.append(character); escaped = false; continue }
            if quoted && character == "\\" { escaped = true; continue }
            if character == "\"" { quoted.toggle(); continue }
            if character == ";" && !quoted { parts.append(current); current = ""; continue }
            current.append(character)
        }
        parts.append(current)
        for part in parts.dropFirst() {
            guard let equals = part.firstIndex(of: "=") else { continue }
            let key = part[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            result[key] = String(part[part.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
        }
        return result
    }
}

extension Request {
    /// The body's chunks with back-pressure (Vapor reads the next one only after `ack` succeeds);
    /// failing an ack stops the body. Unlike Vapor's own AsyncSequence it is also safe when the
    /// request has no body at all (that traps there).
    func bodyChunks() -> AsyncThrowingStream<(ByteBuffer, EventLoopPromise<Void>), any Error> {
        let eventLoop = self.eventLoop
        return AsyncThrowingStream { continuation in
            body.drain { result in
                switch result {
                case .buffer(let buffer):
                    let ack = eventLoop.makePromise(of: Void.self)
                    if case .terminated = continuation.yield((buffer, ack)) { ack.fail(CancellationError()) }
                    return ack.futureResult
                case .error(let error):
                    continuation.finish(throwing: error)
                    return eventLoop.makeSucceededVoidFuture()
                case .end:
                    continuation.finish()
                    return eventLoop.makeSucceededVoidFuture()
                }
            }
        }
    }
}
