import Foundation
import NIOCore

/// A streaming `multipart/form-data` parser (RFC 7578): feed it the body in chunks of any size; it
/// calls `onHeader` for each part header, `onBody` with the part's bytes as they arrive and
/// `onPartComplete` at the part's end, and throws `MultipartStream.Malformed` on bad syntax.
///
/// Ours, not MultipartKit's: MultipartKit 4.7.1 traps on a header name holding a byte ≥ 0x80 (it
/// indexes a 128-entry table with it), so one request crashed the whole server — found by the
/// `FuzzMultipart` target. Every byte here is checked before it is used.
final class MultipartStream {
    struct Malformed: Error { let reason: String }

    var onHeader: (String, String) -> Void = { _, _ in }
    var onBody: (ByteBuffer) -> Void = { _ in }
    var onPartComplete: () -> Void = {}

    /// Longest header line accepted (a file name is in one).
    static let maxHeaderLine = 8 * 1024
    /// Most headers in one part.
    static let maxHeaders = 16

    private enum State {
        /// Before the first delimiter: anything may precede it (RFC 2046's preamble).
        case preamble
        /// Just after a delimiter: `--` ends the body, otherwise the line ends and headers follow.
        case afterDelimiter
        case headers(count: Int)
        case body
        case epilogue
    }

    private let delimiter: [UInt8]  // CRLF "--" boundary: what ends a part's body
    private var state = State.preamble
    private var pending: [UInt8] = []  // bytes not yet decided on

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The first delimiter may start the body, with no CRLF before it.
        pending = [13, 10]
    }

    func execute(_ chunk: ByteBuffer) throws {
        pending.append(contentsOf: chunk.readableBytesView)
        var progress = true
        while progress { progress = try step() }
    }

    /// The body is over: it must have ended with the closing delimiter.
    func finish() throws {
        guard case .epilogue = state else { throw Malformed(reason: "the body ends before its closing boundary") }
    }

    /// Decides on what it can from `pending`; false when it needs more bytes.
    private func step() throws -> Bool {
        switch state {
        case .epilogue:
            pending.removeAll()
            return false
        case .preamble:
            guard let at = find(delimiter, in: pending) else {
                // Keep only what could be the start of the delimiter.
                if pending.count >= delimiter.count { pending.removeFirst(pending.count - delimiter.count + 1) }
                return false
            }
            pending.removeFirst(at + delimiter.count)
            state = .afterDelimiter
            return true
        case .afterDelimiter:
            guard pending.count >= 2 else { return false }
            if pending[0] == UInt8(ascii: "-") && pending[1] == UInt8(ascii: "-") {
                state = .epilogue
                return true
            }
            // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
            guard let end = lineEnd(in: pending) else {
                if pending.count > Self.maxHeaderLine { throw Malformed(reason: "no line end after a boundary") }
                return false
            }
            guard pending[..<end].allSatisfy({ $0 == 32 || $0 == 9 }) else { throw Malformed(reason: "text after a boundary") }
            pending.removeFirst(end + 2)
            state = .headers(count: 0)
            return true
        case .headers(let count):
            guard let end = lineEnd(in: pending) else {
                if pending.count > Self.maxHeaderLine { throw Malformed(reason: "a header line is too long") }
                return false
            }
            let line = Array(pending[..<end])
            pending.removeFirst(end + 2)
            if line.isEmpty {
                state = .body
                return true
            }
            guard count < Self.maxHeaders else { throw Malformed(reason: "too many part headers") }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0,
                  line[..<colon].allSatisfy(Self.isTokenCharacter) else {
                throw Malformed(reason: "a part header without a valid name")
            }
            let name = String(decoding: line[..<colon], as: UTF8.self)
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            onHeader(name, value)
            state = .headers(count: count + 1)
            return true
        case .body:
            if let at = find(delimiter, in: pending) {
                if at > 0 { onBody(ByteBuffer(bytes: pending[..<at])) }
                pending.removeFirst(at + delimiter.count)
                onPartComplete()
                state = .afterDelimiter
                return true
            }
            // Everything but a possible start of the delimiter is the part's.
            let safe = pending.count - (delimiter.count - 1)
            if safe > 0 {
                onBody(ByteBuffer(bytes: pending[..<safe]))
                pending.removeFirst(safe)
            }
            return false
        }
    }

    /// Where CRLF starts in `bytes`, if it does.
    private func lineEnd(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 2 else { return nil }
        for index in 0..<(bytes.count - 1) where bytes[index] == 13 && bytes[index + 1] == 10 { return index }
        return nil
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count, let first = needle.first else { return nil }
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first && haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    /// RFC 9110 `token` characters: what a header name is made of.
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}
