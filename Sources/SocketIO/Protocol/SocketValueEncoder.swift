import Foundation

/// Encodes an `Encodable` straight into a `SocketValue`: keys in the order the type encodes
/// them, absent optionals left out (as `JSONEncoder` does), `Data` as a binary attachment, and
/// dates as ISO 8601 strings with milliseconds (what JavaScript's `Date.toJSON` writes). It
/// throws instead of guessing: a non-finite number or a type that encodes nothing is an error,
/// never a silent `null`.
public struct SocketValueEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> SocketValue {
        let root = EncodingNode()
        try ValueEncoder(node: root, codingPath: []).encodeValue(value)
        guard let result = root.result else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(T.self) encoded no value"))
        }
        return result
    }

    /// `2026-11-30T16:39:50.123Z`: fixed width, UTC, milliseconds truncated from the fraction of
    /// the second — exactly as Foundation's ISO 8601 format style writes them, so REST (which
    /// uses it) and events show the same instant the same way.
    public static func iso8601(_ date: Date) -> String {
        // The fraction as Foundation sees it: of the seconds since 2001 (whole seconds apart from 1970).
        let sinceReference = date.timeIntervalSinceReferenceDate
        let wholeSinceReference = sinceReference.rounded(.down)
        let millis = min(999, Int(((sinceReference - wholeSinceReference) * 1000).rounded(.down)))
        let seconds = Int64(wholeSinceReference) + 978_307_200
        var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let yearText = year < 0 ? "-" + pad(-year, 4) : pad(year, 4)
        return "\(yearText)-\(pad(month, 2))-\(pad(day, 2))T\(pad(Int64(secondOfDay / 3600), 2)):"
            + "\(pad(Int64(secondOfDay % 3600 / 60), 2)):\(pad(Int64(secondOfDay % 60), 2)).\(pad(Int64(millis), 3))Z"
    }
}

/// Where one encoded value goes. Containers fill it in place, so a nested container created
/// before its siblings still lands where it was asked for.
private final class EncodingNode {
    enum Kind { case empty, value, object, array }

    var kind = Kind.empty
    var value = SocketValue.null
    var entries: [(key: String, node: EncodingNode)] = []
    var items: [EncodingNode] = []

    func set(_ value: SocketValue) {
        kind = .value
        self.value = value
    }

    var result: SocketValue? {
        switch kind {
        case .empty: return nil
        case .value: return value
        case .object:
            return .object(SocketObject(parsed: entries.compactMap { entry in entry.node.result.map { SocketObject.Entry(key: entry.key, value: $0) } }))
        case .array: return .array(items.compactMap(\.result))
        }
    }

    func objectChild(_ key: String) -> EncodingNode {
        let child = EncodingNode()
        entries.append((key, child))
        return child
    }

    func arrayChild() -> EncodingNode {
        let child = EncodingNode()
        items.append(child)
        return child
    }
}

private struct ValueEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if node.kind != .object { node.kind = .object; node.entries = [] }
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if node.kind != .array { node.kind = .array; node.items = [] }
        return UnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleContainer(encoder: self) }

    func encodeValue<T: Encodable>(_ value: T) throws {
        switch value {
        case let date as Date: node.set(.string(SocketValueEncoder.iso8601(date)))
        case let data as Data: node.set(.binary(Array(data)))
        case let string as String: node.set(.string(string))
        case let url as URL: node.set(.string(url.absoluteString))
        case let decimal as Decimal: try number(NSDecimalNumber(decimal: decimal).doubleValue)
        default: try value.encode(to: self)
        }
    }

    func number(_ value: Double) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "\(value) is not a JSON number"))
        }
        node.set(.number(value))
    }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let encoder: ValueEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    func encodeNil() { encoder.node.set(.null) }
    func encode(_ value: Bool) { encoder.node.set(.bool(value)) }
    func encode(_ value: String) { encoder.node.set(.string(value)) }
    func encode(_ value: Double) throws { try encoder.number(value) }
    func encode(_ value: Float) throws { try encoder.number(Double(value)) }  // non-finite: an error
    func encode(_ value: Int) throws { try encoder.number(Double(value)) }
    func encode(_ value: Int8) throws { try encoder.number(Double(value)) }
    func encode(_ value: Int16) throws { try encoder.number(Double(value)) }
    func encode(_ value: Int32) throws { try encoder.number(Double(value)) }
    func encode(_ value: Int64) throws { try encoder.number(Double(value)) }
    func encode(_ value: UInt) throws { try encoder.number(Double(value)) }
    func encode(_ value: UInt8) throws { try encoder.number(Double(value)) }
    func encode(_ value: UInt16) throws { try encoder.number(Double(value)) }
    func encode(_ value: UInt32) throws { try encoder.number(Double(value)) }
    func encode(_ value: UInt64) throws { try encoder.number(Double(value)) }
    func encode<T: Encodable>(_ value: T) throws { try encoder.encodeValue(value) }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    private func child(_ key: Key) -> ValueEncoder {
        ValueEncoder(node: node.objectChild(key.stringValue), codingPath: codingPath + [key])
    }

    mutating func encodeNil(forKey key: Key) { child(key).node.set(.null) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try child(key).encodeValue(value) }

    // The protocol names every primitive; each goes through the one generic path.
    mutating func encode(_ value: Bool, forKey key: Key) throws { try child(key).encodeValue(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { try child(key).encodeValue(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try child(key).encodeValue(value) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try child(key).encodeValue(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try child(key).encodeValue(value) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try child(key).encodeValue(value) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try child(key).encodeValue(value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try child(key).encodeValue(value) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try child(key).encodeValue(value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try child(key).encodeValue(value) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try child(key).encodeValue(value) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try child(key).encodeValue(value) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try child(key).encodeValue(value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try child(key).encodeValue(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        child(key).container(keyedBy: NestedKey.self)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { child(key).unkeyedContainer() }
    mutating func superEncoder() -> any Encoder { ValueEncoder(node: node.objectChild("super"), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { child(key) }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    var count: Int { node.items.count }

    private func child() -> ValueEncoder { ValueEncoder(node: node.arrayChild(), codingPath: codingPath) }

    mutating func encodeNil() { child().node.set(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws { try child().encodeValue(value) }
    mutating func encode(_ value: Bool) throws { try child().encodeValue(value) }
    mutating func encode(_ value: String) throws { try child().encodeValue(value) }
    mutating func encode(_ value: Double) throws { try child().encodeValue(value) }
    mutating func encode(_ value: Float) throws { try child().encodeValue(value) }
    mutating func encode(_ value: Int) throws { try child().encodeValue(value) }
    mutating func encode(_ value: Int8) throws { try child().encodeValue(value) }
    mutating func encode(_ value: Int16) throws { try child().encodeValue(value) }
    mutating func encode(_ value: Int32) throws { try child().encodeValue(value) }
    mutating func encode(_ value: Int64) throws { try child().encodeValue(value) }
    mutating func encode(_ value: UInt) throws { try child().encodeValue(value) }
    mutating func encode(_ value: UInt8) throws { try child().encodeValue(value) }
    mutating func encode(_ value: UInt16) throws { try child().encodeValue(value) }
    mutating func encode(_ value: UInt32) throws { try child().encodeValue(value) }
    mutating func encode(_ value: UInt64) throws { try child().encodeValue(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        child().container(keyedBy: NestedKey.self)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { child().unkeyedContainer() }
    mutating func superEncoder() -> any Encoder { child() }
}
