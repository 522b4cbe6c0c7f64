/// Socket.IO protocol v5 packet types.
public enum SocketPacketType: UInt8, Sendable {
    case connect = 0, disconnect, event, ack, connectError, binaryEvent, binaryAck
}

/// One Socket.IO packet. `data` holds binary values in place; the codec moves them to and from
/// attachments.
public struct SocketPacket: Sendable, Equatable {
    public var type: SocketPacketType
    public var namespace: String
    public var id: Int?
    public var data: SocketValue?

    public init(_ type: SocketPacketType, namespace: String = "/", id: Int? = nil, data: SocketValue? = nil) {
        self.type = type
        self.namespace = namespace
        self.id = id
        self.data = data
    }
}

public enum SocketDecodingError: Error, Equatable, Sendable {
    case empty
    case unknownType
    case invalidAttachments
    case tooManyAttachments
    case invalidNamespace
    case invalidAckID
    case invalidJSON(String)
    case invalidPayload(String)
    case unexpectedBinary
    case invalidPlaceholder
}

/// `<type>[<attachments>-][<namespace>,][<ackId>][JSON]`.
public enum SocketCodec {
    /// Encodes a packet: the text part and, for packets carrying binary, the attachments in order.
    public static func encode(_ packet: SocketPacket) -> (text: String, attachments: [[UInt8]]) {
        var attachments: [[UInt8]] = []
        // One walk to see whether there is binary at all; most packets have none.
        let data = packet.data.map { $0.containsBinary ? extractBinary($0, into: &attachments) : $0 }
        var type = packet.type
        if !attachments.isEmpty {
            if type == .event { type = .binaryEvent } else if type == .ack { type = .binaryAck }
        }
        var out = [UInt8]()
        out.reserveCapacity(256)
        out.append(UInt8(ascii: "0") + type.rawValue)
        if type == .binaryEvent || type == .binaryAck {
            out.append(contentsOf: String(attachments.count).utf8)
            out.append(UInt8(ascii: "-"))
        }
        if packet.namespace != "/" {
            out.append(contentsOf: packet.namespace.utf8)
            out.append(UInt8(ascii: ","))
        }
        if let id = packet.id { out.append(contentsOf: String(id).utf8) }
        if let data { JSONCodec.write(data, into: &out) }
        return (String(decoding: out, as: UTF8.self), attachments)
    }

    /// Decodes the text part. For binary packets `attachments` says how many buffers follow;
    /// `BinaryAssembler` puts them in place.
    public static func decode(_ text: String, maxAttachments: Int = 10) throws(SocketDecodingError) -> (packet: SocketPacket, attachments: Int) {
        var text = text
        let result = text.withUTF8 { bytes in Result { () throws(SocketDecodingError) in try decode(bytes, maxAttachments: maxAttachments) } }
        return try result.get()
    }

    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, maxAttachments: Int) throws(SocketDecodingError) -> (packet: SocketPacket, attachments: Int) {
        guard let first = bytes.first else { throw .empty }
        guard first >= UInt8(ascii: "0"), let type = SocketPacketType(rawValue: first - UInt8(ascii: "0")) else { throw .unknownType }
        var index = 1
        let isDigit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        var attachments = 0
        if type == .binaryEvent || type == .binaryAck {
            let start = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            guard index > start, index - start <= 6, index < bytes.count, bytes[index] == UInt8(ascii: "-") else { throw .invalidAttachments }
            attachments = Int(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))!
            guard attachments <= maxAttachments else { throw .tooManyAttachments }
            index += 1
        }

        var namespace = "/"
        if index < bytes.count, bytes[index] == UInt8(ascii: "/") {
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: ",") { index += 1 }
            namespace = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if index < bytes.count { index += 1 } // the comma
            guard namespace.count <= 256 else { throw .invalidNamespace }
        }

        var id: Int?
        let idStart = index
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        if index > idStart {
            guard index - idStart <= 15 else { throw .invalidAckID }
            var value = 0
            for byte in UnsafeBufferPointer(rebasing: bytes[idStart..<index]) { value = value * 10 + Int(byte - UInt8(ascii: "0")) }
            id = value
        }

        var data: SocketValue?
        if index < bytes.count {
            do {
                data = try JSONCodec.parse(UnsafeBufferPointer(rebasing: bytes[index...]))
            } catch {
                throw .invalidJSON(error.reason)
            }
        }
        let packet = SocketPacket(type, namespace: namespace, id: id, data: data)
        try validate(packet, attachments: attachments)
        return (packet, attachments)
    }

    /// The payload rules of socket.io-parser: what each packet type may carry.
    static func validate(_ packet: SocketPacket, attachments: Int) throws(SocketDecodingError) {
        switch packet.type {
        case .connect:
            if let data = packet.data, data.objectValue == nil { throw .invalidPayload("CONNECT payload must be an object") }
            if packet.id != nil { throw .invalidAckID }
        case .disconnect:
            if packet.data != nil { throw .invalidPayload("DISCONNECT carries no payload") }
            if packet.id != nil { throw .invalidAckID }
        case .connectError:
            guard let data = packet.data, data.objectValue != nil || data.stringValue != nil else {
                throw .invalidPayload("CONNECT_ERROR payload must be an object or a string")
            }
        case .event, .binaryEvent:
            guard let array = packet.data?.arrayValue, let name = array.first, name.stringValue != nil else {
                throw .invalidPayload("EVENT payload must be an array starting with the event name")
            }
        case .ack, .binaryAck:
            guard packet.id != nil else { throw .invalidAckID }
            guard packet.data?.arrayValue != nil else { throw .invalidPayload("ACK payload must be an array") }
        }
    }

    /// Replaces binary values with `{"_placeholder":true,"num":N}`.
    static func extractBinary(_ value: SocketValue, into attachments: inout [[UInt8]]) -> SocketValue {
        switch value {
        case .binary(let bytes):
            attachments.append(bytes)
            return .object(["_placeholder": .bool(true), "num": .number(Double(attachments.count - 1))])
        case .array(let values):
            return .array(values.map { extractBinary($0, into: &attachments) })
        case .object(let object):
            return .object(object.mapValues { extractBinary($0, into: &attachments) })
        default:
            return value
        }
    }

    /// Puts attachments back where their placeholders are. Every placeholder must refer to a
    /// received buffer.
    static func insertBinary(_ value: SocketValue, attachments: [[UInt8]]) throws(SocketDecodingError) -> SocketValue {
        switch value {
        case .object(let object):
            if object["_placeholder"] == .bool(true), let number = object["num"]?.numberValue {
                guard number >= 0, number == number.rounded(), Int(number) < attachments.count else { throw .invalidPlaceholder }
                return .binary(attachments[Int(number)])
            }
            var result = object
            for entry in object.entries { result[entry.key] = try insertBinary(entry.value, attachments: attachments) }
            return .object(result)
        case .array(let values):
            var result: [SocketValue] = []
            result.reserveCapacity(values.count)
            for element in values { result.append(try insertBinary(element, attachments: attachments)) }
            return .array(result)
        default:
            return value
        }
    }
}

/// Collects the binary attachments that follow a BINARY_EVENT / BINARY_ACK header.
public struct BinaryAssembler: Sendable {
    private var pending: SocketPacket?
    private var expected = 0
    private var buffers: [[UInt8]] = []

    public init() {}

    public var isWaiting: Bool { pending != nil }

    /// Starts a binary packet; returns it at once when it announced zero attachments.
    public mutating func start(_ packet: SocketPacket, attachments: Int) throws(SocketDecodingError) -> SocketPacket? {
        guard attachments > 0 else {
            return try finished(packet, buffers: [])
        }
        pending = packet
        expected = attachments
        buffers = []
        return nil
    }

    /// Adds one buffer; returns the complete packet after the last one.
    public mutating func add(_ buffer: [UInt8]) throws(SocketDecodingError) -> SocketPacket? {
        guard let packet = pending else { throw .unexpectedBinary }
        buffers.append(buffer)
        guard buffers.count == expected else { return nil }
        pending = nil
        defer { buffers = [] }
        return try finished(packet, buffers: buffers)
    }

    private func finished(_ packet: SocketPacket, buffers: [[UInt8]]) throws(SocketDecodingError) -> SocketPacket {
        var complete = packet
        complete.data = try packet.data.map { value throws(SocketDecodingError) in try SocketCodec.insertBinary(value, attachments: buffers) }
        // Once reassembled, a binary packet is an ordinary event or ack to the layers above.
        if complete.type == .binaryEvent { complete.type = .event }
        if complete.type == .binaryAck { complete.type = .ack }
        return complete
    }
}
