import NIOConcurrencyHelpers
import NIOCore
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

    /// Room for what is neither file nor field: boundaries, part headers, and parts that are ignored.
    static let framingBytes = 64 * 1024

    /// The largest body an upload can have: a file at its limit, fields at theirs, and the framing.
    /// What counts against `maxFileBytes` is still the file's own bytes; this only bounds the whole
    /// body, so that a `Content-Length` above it is refused before anything is read and a body
    /// without one (chunked) cannot go on forever in parts that are ignored.
    static func maxBodyBytes(maxFileBytes: Int) -> Int { maxFileBytes + maxFieldBytes + framingBytes }

    static func tooLarge(maxFileBytes: Int) -> ChatrError {
        ChatrError(.payloadTooLarge, "Files must be at most \(maxFileBytes / 1024 / 1024) MB", code: "file_too_large")
    }

    static func read(_ req: Request, fileField: String, maxFileBytes: Int, stagingDirectory: String) async throws -> MultipartUpload {
        let maxBody = maxBodyBytes(maxFileBytes: maxFileBytes)
        // Too large by its own account: refused before the body is read (Vapor calls the handler as
        // soon as the first chunk is in), and the rest is dropped as it comes (see `Refusal`).
        if let length = req.headers.first(name: .contentLength).flatMap({ Int($0) }), length > maxBody {
            throw Refusal(error: tooLarge(maxFileBytes: maxFileBytes), body: req.bodyChunks(discarding: true))
        }
        guard let contentType = req.headers.contentType, contentType.type == "multipart", contentType.subType == "form-data",
              let boundary = contentType.parameters["boundary"], !boundary.isEmpty else {
            throw ChatrError(.unsupportedMediaType, "Send the file as multipart/form-data in the field '\(fileField)'")
        }
        let reader = Reader(fileField: fileField, maxFileBytes: maxFileBytes, stagingDirectory: stagingDirectory, boundary: boundary)
        let body = req.bodyChunks()
        var received = 0
        do {
            for try await (chunk, ack) in body.chunks {
                do {
                    received += chunk.readableBytes
                    guard received <= maxBody else { throw FileStager.Failure.tooLarge }
                    try reader.feed(chunk)
                } catch {
                    // Refused halfway through the body. The ack still succeeds (a failed one would
                    // stop Vapor reading the connection for good): the rest is dropped as it comes.
                    body.discardRest()
                    ack.succeed()
                    reader.discard()
                    throw Refusal(error: describe(error, maxFileBytes: maxFileBytes), body: body)
                }
                ack.succeed()
            }
            return try reader.finish()
        } catch let refusal as Refusal {
            throw refusal
        } catch {
            // The body has ended (cut off, or malformed at its end): the connection is in order.
            reader.discard()
            throw describe(error, maxFileBytes: maxFileBytes)
        }
    }

    private static func describe(_ error: any Error, maxFileBytes: Int) -> any Error {
        switch error {
        case FileStager.Failure.tooLarge:
            return tooLarge(maxFileBytes: maxFileBytes)
        case is MultipartUpload.Problem:
            return ChatrError.badRequest("The multipart body is malformed or incomplete", code: "invalid_multipart")
        default:
            return error
        }
    }

    enum Problem: Error { case fieldsTooLarge, incomplete, malformed }

    /// The parser's callbacks cannot throw, so failures are remembered and raised after each chunk.
    /// (Internal, not private, for the fuzz target in `Fuzz/FuzzMultipart`.)
    struct Reader {
        let fileField: String
        let maxFileBytes: Int
        let stagingDirectory: String
        let parser: MultipartStream
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
            parser = MultipartStream(boundary: boundary)
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
            do { try parser.execute(chunk) } catch is MultipartStream.Malformed { throw Problem.malformed }
            if let failure = state.failure { throw failure }
        }

        func finish() throws -> MultipartUpload {
            if let failure = state.failure { throw failure }
            do { try parser.finish() } catch { throw Problem.incomplete }
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

extension MultipartUpload {
    /// An upload refused while its body was still coming in (too large by its `Content-Length`,
    /// or past a limit, or malformed, halfway through).
    ///
    /// The answer goes out at once, with `Connection: close`, and the connection is then really
    /// closed: the rest of the body is dropped as it arrives until it ends (or the client gives up
    /// and closes), for `lingering` at most, and only then is the socket closed — after a full
    /// read it closes with a FIN, so the client, still sending, does not get a reset instead of
    /// the answer. Vapor 4 keeps a connection open whatever the response's `Connection` header
    /// says (it decides from the request alone, and has no public way to change that), but it
    /// closes the channel when a streamed response body ends in an error: so the JSON goes out as
    /// a streamed body of known length, and the stream ends with an error after the lingering.
    struct Refusal: Error {
        let error: any Error
        let body: StreamedBody

        /// How long a refused body may go on arriving before the connection is closed under it.
        /// It stays below Vapor's 10 s shutdown timeout, so a lingering upload cannot hold up a stop.
        static let lingering: TimeAmount = .seconds(3)

        private struct CloseConnection: Error {}

        func response(for req: Request) -> Response {
            let response = JSONErrorMiddleware.response(for: error, request: req)
            response.headers.replaceOrAdd(name: .connection, value: "close")
            // A body Vapor already holds whole (XCTVapor's in-memory requests) left nothing unread
            // on any connection: a plain answer. (A streamed body that failed there would not
            // reach XCTVapor's client as an answer at all.)
            guard req.body.data == nil, let json = response.body.buffer else { return response }
            let body = self.body
            response.body = .init(asyncStream: { writer in
                do {
                    try await writer.write(.buffer(json))
                    await body.waitForEnd(atMost: Refusal.lingering)
                } catch {
                    // The answer could not be written: the client is gone, there is nothing to wait for.
                }
                // Ends the response with an error: HTTPServerHandler passes the failed write on as
                // errorCaught, and NIOCloseOnErrorHandler closes the channel.
                try? await writer.write(.error(CloseConnection()))
            }, count: json.readableBytes, byteBufferAllocator: req.byteBufferAllocator)
            return response
        }
    }
}

/// A request body read as it arrives, chunk by chunk with back-pressure: Vapor reads the next chunk
/// from the socket only once the last one is acknowledged (`ack.succeed()`). Unlike Vapor's own
/// AsyncSequence it is also safe when the request has no body at all (that traps there).
///
/// A reader that stops early must neither leave a chunk unacknowledged nor fail an ack: either way
/// Vapor's HTTPServerRequestDecoder stops reading the connection for good (a failed write leaves its
/// body state in `.error`, which swallows every later `read()`; an unanswered one leaves it
/// `.writing`), so the rest of the request, the next request and the client's close are never seen,
/// and the server cannot stop. `discardRest()` instead acknowledges and drops whatever still comes,
/// so the request is read to its end.
final class StreamedBody: Sendable {
    typealias Chunk = (ByteBuffer, EventLoopPromise<Void>)

    /// The chunks, each with the promise that acknowledges it.
    let chunks: AsyncThrowingStream<Chunk, any Error>
    private let eventLoop: any EventLoop
    private let state: NIOLockedValueBox<State>

    private struct State {
        var discarding: Bool
        var ended = false
        var endWaiters: [EventLoopPromise<Void>] = []
    }

    /// `discarding`: drop the whole body from the start.
    init(_ req: Request, discarding: Bool = false) {
        let eventLoop = req.eventLoop
        let state = NIOLockedValueBox(State(discarding: discarding))
        let (chunks, continuation) = AsyncThrowingStream<Chunk, any Error>.makeStream()
        // Nobody reads the chunks any more (the reader returned or threw): drop the rest.
        continuation.onTermination = { _ in state.withLockedValue { $0.discarding = true } }
        self.chunks = chunks
        self.eventLoop = eventLoop
        self.state = state
        req.body.drain { result in
            switch result {
            case .buffer(let buffer):
                if state.withLockedValue({ $0.discarding }) { return eventLoop.makeSucceededVoidFuture() }
                let ack = eventLoop.makePromise(of: Void.self)
                if case .terminated = continuation.yield((buffer, ack)) { ack.succeed() }
                return ack.futureResult
            case .error(let error):
                continuation.finish(throwing: error)
                StreamedBody.didEnd(state)
                return eventLoop.makeSucceededVoidFuture()
            case .end:
                continuation.finish()
                StreamedBody.didEnd(state)
                return eventLoop.makeSucceededVoidFuture()
            }
        }
    }

    /// From now on every chunk is acknowledged and dropped. Call it before succeeding the ack of
    /// the chunk in hand, so the next one is already dropped.
    func discardRest() {
        state.withLockedValue { $0.discarding = true }
    }

    /// Returns once the body has ended — read to its end, or cut off by the client closing the
    /// connection (Vapor ends the body then) — or after `limit`, whichever comes first.
    func waitForEnd(atMost limit: TimeAmount) async {
        let promise = eventLoop.makePromise(of: Void.self)
        let ended = state.withLockedValue { state -> Bool in
            if !state.ended { state.endWaiters.append(promise) }
            return state.ended
        }
        if ended { promise.succeed() }
        let timeout = eventLoop.scheduleTask(in: limit) { promise.succeed() }
        // Cancelled below, or never run (the event loop is going away): the promise is completed
        // either way (completing it twice is harmless, leaving it open is not).
        timeout.futureResult.whenFailure { _ in promise.succeed() }
        try? await promise.futureResult.get()
        timeout.cancel()
    }

    private static func didEnd(_ state: NIOLockedValueBox<State>) {
        let waiters = state.withLockedValue { state -> [EventLoopPromise<Void>] in
            state.ended = true
            state.discarding = true
            let waiters = state.endWaiters
            state.endWaiters = []
            return waiters
        }
        for waiter in waiters { waiter.succeed() }
    }
}

extension Request {
    /// The body as a `StreamedBody` (see there). It starts reading the body: take it once.
    func bodyChunks(discarding: Bool = false) -> StreamedBody {
        StreamedBody(self, discarding: discarding)
    }
}
