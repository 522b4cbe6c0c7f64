import Foundation

/// Engine.IO v4 packet types.
public enum EnginePacketType: UInt8, Sendable {
    case open = 0, close, ping, pong, message, upgrade, noop

    init?(character: UInt8) {
        guard character >= UInt8(ascii: "0") else { return nil }
        self.init(rawValue: character - UInt8(ascii: "0"))
    }

    var character: Character { Character(Unicode.Scalar(UInt8(ascii: "0") + rawValue)) }
}

/// One Engine.IO packet: a type and a text or binary payload.
public struct EnginePacket: Sendable, Equatable {
    public enum Payload: Sendable, Equatable {
        case text(String)
        case binary([UInt8])
    }

    public var type: EnginePacketType
    public var payload: Payload

    public init(_ type: EnginePacketType, _ text: String = "") {
        self.type = type
        payload = .text(text)
    }

    public init(binary: [UInt8]) {
        type = .message
        payload = .binary(binary)
    }

    public var text: String? { if case .text(let value) = payload { return value } else { return nil } }
}

public enum EngineDecodingError: Error, Equatable, Sendable {
    case empty
    case unknownType
    case invalidBase64
}

/// Engine.IO v4 codecs: a WebSocket frame carries one packet; an HTTP long-polling body carries
/// several, joined by the record separator 0x1E, with binary packets as `b` + base64.
public enum EngineCodec {
    public static let recordSeparator: Character = "\u{1E}"

    /// A text WebSocket frame or one record of a polling payload.
    public static func decode(text: Substring) throws(EngineDecodingError) -> EnginePacket {
        guard let first = text.utf8.first else { throw .empty }
        if first == UInt8(ascii: "b") {
            guard let data = Data(base64Encoded: String(text.dropFirst())) else { throw .invalidBase64 }
            return EnginePacket(binary: Array(data))
        }
        guard let type = EnginePacketType(character: first) else { throw .unknownType }
        return EnginePacket(type, String(text.dropFirst()))
    }

    /// The text form of a packet (a WebSocket text frame; binary is base64 here, for polling).
    public static func encode(_ packet: EnginePacket) -> String {
        switch packet.payload {
        case .text(let text): return String(packet.type.character) + text
        case .binary(let bytes): return "b" + Data(bytes).base64EncodedString()
        }
    }

    /// A polling POST body. Every record must be a valid packet or the whole payload is refused.
    public static func decodePayload(_ body: String) throws(EngineDecodingError) -> [EnginePacket] {
        guard !body.isEmpty else { throw .empty }
        var packets: [EnginePacket] = []
        for record in body.split(separator: recordSeparator, omittingEmptySubsequences: false) {
            packets.append(try decode(text: record))
        }
        return packets
    }

    public static func encodePayload(_ packets: [EnginePacket]) -> String {
        packets.map(encode).joined(separator: String(recordSeparator))
    }
}
