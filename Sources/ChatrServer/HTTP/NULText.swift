import NIOCore
import SocketIO
import Vapor

/// U+0000 in text. PostgreSQL's text cannot hold it ("invalid byte sequence for encoding UTF8:
/// 0x00": a message, a name, a search, a token with one was a 500 there) and no chat text needs
/// it, so it is refused at every door, on both databases alike: JSON bodies (`\u0000`), URLs
/// (`%00`), Socket.IO payloads and form fields — 400 `invalid_text`.
enum NULText {
    static let refusal = ChatrError.badRequest("Text must not contain NUL characters (U+0000)", code: "invalid_text")

    /// A JSON text's `\u0000` escapes (a raw 0x00 byte is not JSON, and fails to decode anyway).
    /// A backslash escaped itself (`\\u0000`, the six characters) does not count.
    static func inJSON(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { bytes in
            var index = 0
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "\\") {
                    if index + 5 < bytes.count, bytes[index + 1] == UInt8(ascii: "u"),
                       bytes[index + 2] == UInt8(ascii: "0"), bytes[index + 3] == UInt8(ascii: "0"),
                       bytes[index + 4] == UInt8(ascii: "0"), bytes[index + 5] == UInt8(ascii: "0") {
                        return true
                    }
                    index += 2  // the escaped character, whatever it is
                } else {
                    index += 1
                }
            }
            return false
        }
    }

    /// Whether a decoded value holds NUL in any string it kept (fields the route reads, not the
    /// ones it ignores: unknown properties are ignored whatever they hold, as the OpenAPI
    /// document's open objects promise).
    static func inDecoded(_ value: Any, depth: Int = 0) -> Bool {
        if let text = value as? String { return text.utf8.contains(0) }
        guard depth < 32 else { return false }
        return Mirror(reflecting: value).children.contains { inDecoded($0.value, depth: depth + 1) }
    }

    static func inSocketValue(_ value: SocketValue) -> Bool {
        switch value {
        case .string(let text): return text.utf8.contains(0)
        case .array(let values): return values.contains(where: inSocketValue)
        case .object(let object): return object.values.contains(where: inSocketValue)
        default: return false
        }
    }
}

/// The JSON decoder of every route, refusing NUL in what it decoded (`NULText`).
struct NULRefusingJSONDecoder: ContentDecoder {
    let base: JSONDecoder

    func decode<D: Decodable>(_ decodable: D.Type, from body: ByteBuffer, headers: HTTPHeaders) throws -> D {
        try decode(decodable, from: body, headers: headers, userInfo: [:])
    }

    func decode<D: Decodable>(_ decodable: D.Type, from body: ByteBuffer, headers: HTTPHeaders,
                              userInfo: [CodingUserInfoKey: any Sendable]) throws -> D {
        let value = try base.decode(decodable, from: body, headers: headers, userInfo: userInfo)
        // The byte scan is the cheap first look; only a body with the escape is walked.
        if NULText.inJSON(body), NULText.inDecoded(value) { throw NULText.refusal }
        return value
    }
}

/// `%00` anywhere in the URL (a path parameter, a query) is refused before any route reads it.
struct NULURLMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if request.url.string.range(of: "%00") != nil { throw NULText.refusal }
        return try await next.respond(to: request)
    }
}
