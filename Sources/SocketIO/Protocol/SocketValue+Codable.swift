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
