import Foundation

/// Typed payloads: decode an event argument into a `Decodable` type, or build one from an
/// `Encodable`. Binary values are not representable in JSON and fail to decode.
extension SocketValue {
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        guard !containsBinary else { throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "binary payload")) }
        return try JSONDecoder().decode(T.self, from: Data(JSONCodec.serialize(self).utf8))
    }

    public init<T: Encodable>(encoding value: T) throws {
        let data = try JSONEncoder().encode(value)
        self = try data.withUnsafeBytes { raw in
            let result = Result { () throws(JSONCodec.ParseError) in try JSONCodec.parse(raw.bindMemory(to: UInt8.self)) }
            return try result.get()
        }
    }
}

/// Thrown by a typed handler when the argument does not have the expected shape. When the
/// client asked for an ack, it gets `[{"error": …}]`.
public struct SocketPayloadError: Error, Sendable {
    public var message: String
}
