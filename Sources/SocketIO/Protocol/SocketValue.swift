/// A Socket.IO payload value: JSON, plus binary buffers (which travel as attachments).
public enum SocketValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([SocketValue])
    case object(SocketObject)
    case binary([UInt8])

    public subscript(key: String) -> SocketValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public subscript(index: Int) -> SocketValue? {
        if case .array(let array) = self, array.indices.contains(index) { return array[index] }
        return nil
    }

    public var stringValue: String? { if case .string(let value) = self { return value } else { return nil } }
    public var boolValue: Bool? { if case .bool(let value) = self { return value } else { return nil } }
    public var numberValue: Double? { if case .number(let value) = self { return value } else { return nil } }
    public var arrayValue: [SocketValue]? { if case .array(let value) = self { return value } else { return nil } }
    public var objectValue: SocketObject? { if case .object(let value) = self { return value } else { return nil } }
    public var binaryValue: [UInt8]? { if case .binary(let value) = self { return value } else { return nil } }

    /// Whether any binary buffer is inside (such packets are sent as BINARY_EVENT / BINARY_ACK).
    public var containsBinary: Bool {
        switch self {
        case .binary: return true
        case .array(let values): return values.contains { $0.containsBinary }
        case .object(let object): return object.values.contains { $0.containsBinary }
        default: return false
        }
    }
}

extension SocketValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: SocketValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, SocketValue)...) {
        var object = SocketObject()
        for (key, value) in elements { object[key] = value }
        self = .object(object)
    }
    public init(nilLiteral: ()) { self = .null }
}
