import Foundation

/// Decodes a `Decodable` straight from a parsed `SocketValue` — no JSON text in between (the old
/// path serialised the value and fed it to `JSONDecoder`, parsing every payload twice).
/// Behaves like `JSONDecoder` with default options: numbers convert to integer types only when
/// exact and in range, a missing key is `keyNotFound`, `null` is `valueNotFound` unless the type
/// is optional. Beyond JSON: `Data` and `[UInt8]` decode from binary attachments (and `Data`
/// from base64 text, as `JSONDecoder` reads it); a `Date` is read from the ISO 8601 text
/// `SocketValueEncoder` writes, or from seconds since 2001 (`JSONDecoder`'s default); a `URL`
/// from its text.
public struct SocketValueDecoder: Sendable {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type = T.self, from value: SocketValue) throws -> T {
        try ValueDecoder(value: value, codingPath: []).decodeValue(T.self)
    }

    /// Reads what `SocketValueEncoder.iso8601` writes (and the same without milliseconds).
    static func date(fromISO8601 text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
    }
}

private struct ValueDecoder: Decoder {
    let value: SocketValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else { throw mismatch([String: SocketValue].self) }
        return KeyedDecodingContainer(KeyedContainer<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let array) = value else { throw mismatch([SocketValue].self) }
        return UnkeyedContainer(array: array, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleContainer(decoder: self) }

    func mismatch(_ expected: Any.Type) -> DecodingError {
        if case .null = value {
            return .valueNotFound(expected, .init(codingPath: codingPath, debugDescription: "Expected \(expected) but found null"))
        }
        return .typeMismatch(expected, .init(codingPath: codingPath, debugDescription: "Expected \(expected)"))
    }

    /// Binary and the scalar fast paths first; everything else through its own `init(from:)`.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == Data.self {
            switch value {
            case .binary(let bytes): return Data(bytes) as! T
            case .string(let text):
                guard let data = Data(base64Encoded: text) else { throw corrupted("Expected base64 text") }
                return data as! T
            default: throw mismatch(Data.self)
            }
        }
        if T.self == Date.self {
            switch value {
            case .number(let seconds): return Date(timeIntervalSinceReferenceDate: seconds) as! T
            case .string(let text):
                guard let date = SocketValueDecoder.date(fromISO8601: text) else { throw corrupted("Expected an ISO 8601 date") }
                return date as! T
            default: throw mismatch(Date.self)
            }
        }
        if T.self == URL.self {
            guard case .string(let text) = value else { throw mismatch(URL.self) }
            guard let url = URL(string: text) else { throw corrupted("Invalid URL") }
            return url as! T
        }
        if T.self == Decimal.self {
            guard case .number(let number) = value else { throw mismatch(Decimal.self) }
            return Decimal(number) as! T
        }
        if T.self == [UInt8].self, case .binary(let bytes) = value { return bytes as! T }
        if T.self == String.self {
            guard case .string(let string) = value else { throw mismatch(String.self) }
            return string as! T
        }
        return try T(from: self)
    }

    func corrupted(_ description: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: codingPath, debugDescription: description))
    }

    func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        guard case .number(let number) = value else { throw mismatch(I.self) }
        guard let exact = I(exactly: number) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(number) does not fit in \(I.self)"))
        }
        return exact
    }
}

private struct SingleContainer: SingleValueDecodingContainer {
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.value == .null }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let bool) = decoder.value else { throw decoder.mismatch(Bool.self) }
        return bool
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let string) = decoder.value else { throw decoder.mismatch(String.self) }
        return string
    }

    func decode(_ type: Double.Type) throws -> Double {
        guard case .number(let number) = decoder.value else { throw decoder.mismatch(Double.self) }
        return number
    }

    func decode(_ type: Float.Type) throws -> Float {
        let double = try decode(Double.self)
        guard let float = Float(exactly: double) ?? (abs(double) <= Double(Float.greatestFiniteMagnitude) ? Float(double) : nil) else {
            throw decoder.corrupted("\(double) does not fit in Float")
        }
        return float
    }
    func decode(_ type: Int.Type) throws -> Int { try decoder.integer(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.integer(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.integer(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.integer(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.integer(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.integer(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.integer(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.integer(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.integer(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.integer(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(T.self) }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: SocketObject
    let codingPath: [any CodingKey]

    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

    private func child(_ key: Key) throws -> ValueDecoder {
        guard let value = object[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No value for key '\(key.stringValue)'"))
        }
        return ValueDecoder(value: value, codingPath: codingPath + [key])
    }

    func decodeNil(forKey key: Key) throws -> Bool { try child(key).value == .null }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decodeValue(T.self) }

    // The protocol names every primitive; each goes through the one generic path.
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try child(key).decodeValue(Bool.self) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try child(key).decodeValue(String.self) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try child(key).decodeValue(Double.self) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try child(key).decodeValue(Float.self) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try child(key).decodeValue(Int.self) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try child(key).decodeValue(Int8.self) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try child(key).decodeValue(Int16.self) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try child(key).decodeValue(Int32.self) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try child(key).decodeValue(Int64.self) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try child(key).decodeValue(UInt.self) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try child(key).decodeValue(UInt8.self) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try child(key).decodeValue(UInt16.self) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try child(key).decodeValue(UInt32.self) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try child(key).decodeValue(UInt64.self) }

    /// Synthesised `Decodable` calls this for optionals: absent and `null` are both `nil`.
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = object[key.stringValue], value != .null else { return nil }
        return try ValueDecoder(value: value, codingPath: codingPath + [key]).decodeValue(T.self)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: NestedKey.self)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try child(key).unkeyedContainer() }

    /// As `JSONDecoder`: the value under the key `super` (what `superEncoder()` writes).
    func superDecoder() throws -> any Decoder {
        ValueDecoder(value: object["super"] ?? .null, codingPath: codingPath + [PlainKey("super")])
    }
    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

private struct PlainKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let array: [SocketValue]
    let codingPath: [any CodingKey]
    private(set) var currentIndex = 0

    init(array: [SocketValue], codingPath: [any CodingKey]) {
        self.array = array
        self.codingPath = codingPath
    }

    var count: Int? { array.count }
    var isAtEnd: Bool { currentIndex >= array.count }

    private struct Index: CodingKey {
        var intValue: Int?
        var stringValue: String { "\(intValue ?? 0)" }
        init(_ index: Int) { intValue = index }
        init?(stringValue: String) { return nil }
        init?(intValue: Int) { self.intValue = intValue }
    }

    private mutating func next() throws -> ValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "Unkeyed container is at end"))
        }
        defer { currentIndex += 1 }
        return ValueDecoder(value: array[currentIndex], codingPath: codingPath + [Index(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any?.self, .init(codingPath: codingPath, debugDescription: "Unkeyed container is at end"))
        }
        guard array[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(T.self) }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next().decodeValue(Bool.self) }
    mutating func decode(_ type: String.Type) throws -> String { try next().decodeValue(String.self) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next().decodeValue(Double.self) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next().decodeValue(Float.self) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next().decodeValue(Int.self) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next().decodeValue(Int8.self) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next().decodeValue(Int16.self) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next().decodeValue(Int32.self) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next().decodeValue(Int64.self) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next().decodeValue(UInt.self) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next().decodeValue(UInt8.self) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next().decodeValue(UInt16.self) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next().decodeValue(UInt32.self) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next().decodeValue(UInt64.self) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: NestedKey.self)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}
