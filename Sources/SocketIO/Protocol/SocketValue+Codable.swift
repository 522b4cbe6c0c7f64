import Foundation

/// Typed payloads: decode an event argument into a `Decodable` type, or build one from an
/// `Encodable` — directly, without JSON text in between (`SocketValueDecoder`/`Encoder`).
extension SocketValue {
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try SocketValueDecoder().decode(T.self, from: self)
    }

    public init<T: Encodable>(encoding value: T) throws {
        self = try SocketValueEncoder().encode(value)
    }
}

/// Thrown by a typed handler when the argument does not have the expected shape. When the
/// client asked for an ack, it gets `[{"error": …}]`.
public struct SocketPayloadError: Error, Sendable {
    public var message: String
}

/// A `SocketValue` written by any `Encoder` (REST's JSON, say), so one value built for events can
/// also be a response body. Whole numbers are written as integers (as JavaScript prints them);
/// binary, which JSON cannot carry, is written as `Data`.
extension SocketValue: Encodable {
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .number(let value):
            var container = encoder.singleValueContainer()
            if value == value.rounded(), abs(value) < 9_007_199_254_740_992 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case .string(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .array(let values):
            var container = encoder.unkeyedContainer()
            for value in values { try container.encode(value) }
        case .object(let object):
            var container = encoder.container(keyedBy: ObjectKey.self)
            for entry in object { try container.encode(entry.value, forKey: ObjectKey(entry.key)) }
        case .binary(let bytes):
            var container = encoder.singleValueContainer()
            try container.encode(Data(bytes))
        }
    }

    private struct ObjectKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ key: String) { stringValue = key }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { return nil }
    }
}
