import Foundation
import SocketIO

/// One notification between nodes: who sent it, its place in the sender's sequence (for the
/// messages that change what clients see), the namespace, and what to do. JSON on the wire, with
/// a version so a node of another version is recognised and skipped, not misread.
struct ClusterEnvelope: Sendable, Equatable {
    static let version = 1

    enum Message: Sendable, Equatable {
        /// Deliver a packet to the matching local sockets.
        case broadcast(BroadcastOptions, [EngineMessage])
        case join(BroadcastOptions, rooms: Set<String>)
        case leave(BroadcastOptions, rooms: Set<String>)
        case disconnect(BroadcastOptions, close: Bool)
        /// A server-side event; with a request id, each node replies.
        case event(name: String, args: [SocketValue], requestID: String?)
        case fetchSockets(BroadcastOptions, requestID: String)
        case reply(requestID: String, data: SocketValue)
        /// "I am alive, and the last message I sequenced is `last`."
        case heartbeat(last: UInt64)
        /// A node started or got its LISTEN connection back: the others answer with a heartbeat.
        case hello
        /// A node is shutting down cleanly.
        case bye
        /// Publish again your messages `from...upTo` (addressed to their sender).
        case replay(from: UInt64, upTo: UInt64)
        /// Too big for a notification: the envelope is in the attachments table, row `id`.
        case attachment(id: Int64)

        /// Messages that change what clients see get a sequence number, are kept for replay,
        /// and are applied in order; the rest are about the cluster itself.
        var isSequenced: Bool {
            switch self {
            case .broadcast, .join, .leave, .disconnect: return true
            case .event(_, _, let requestID): return requestID == nil
            case .fetchSockets, .reply, .heartbeat, .hello, .bye, .replay, .attachment: return false
            }
        }
    }

    var uid: String
    var seq: UInt64?
    var namespace: String
    /// Addressed to one node; every other node ignores it.
    var to: String?
    var message: Message

    struct DecodingError: Error, CustomStringConvertible {
        var reason: String
        var description: String { "cluster notification: \(reason)" }
    }

    // MARK: Encoding

    func encoded() -> String {
        var object: SocketObject = ["v": .number(Double(Self.version)), "uid": .string(uid), "nsp": .string(namespace)]
        if let seq { object["seq"] = .number(Double(seq)) }
        if let to { object["to"] = .string(to) }
        switch message {
        case .broadcast(let options, let messages):
            object["type"] = "broadcast"
            object["opts"] = Self.encode(options)
            object["packet"] = .array(messages.map { message in
                switch message {
                case .text(let text): return .string(text)
                case .binary(let bytes): return ["b64": .string(Data(bytes).base64EncodedString())]
                }
            })
        case .join(let options, let rooms), .leave(let options, let rooms):
            if case .join = message { object["type"] = "join" } else { object["type"] = "leave" }
            object["opts"] = Self.encode(options)
            object["rooms"] = .array(rooms.sorted().map { .string($0) })
        case .disconnect(let options, let close):
            object["type"] = "disconnect"
            object["opts"] = Self.encode(options)
            object["close"] = .bool(close)
        case .event(let name, let args, let requestID):
            object["type"] = "event"
            object["event"] = .string(name)
            object["args"] = .array(args.map(Self.wrapBinary))
            if let requestID { object["rid"] = .string(requestID) }
        case .fetchSockets(let options, let requestID):
            object["type"] = "fetch"
            object["opts"] = Self.encode(options)
            object["rid"] = .string(requestID)
        case .reply(let requestID, let data):
            object["type"] = "reply"
            object["rid"] = .string(requestID)
            object["data"] = Self.wrapBinary(data)
        case .heartbeat(let last):
            object["type"] = "heartbeat"
            object["last"] = .number(Double(last))
        case .hello:
            object["type"] = "hello"
        case .bye:
            object["type"] = "bye"
        case .replay(let from, let upTo):
            object["type"] = "replay"
            object["from"] = .number(Double(from))
            object["upTo"] = .number(Double(upTo))
        case .attachment(let id):
            object["type"] = "attachment"
            object["id"] = .number(Double(id))
        }
        return JSONCodec.serialize(.object(object))
    }

    // MARK: Decoding

    init(uid: String, seq: UInt64? = nil, namespace: String, to: String? = nil, message: Message) {
        self.uid = uid
        self.seq = seq
        self.namespace = namespace
        self.to = to
        self.message = message
    }

    init(decoding text: String) throws {
        let value: SocketValue
        do { value = try JSONCodec.parse(text) } catch { throw DecodingError(reason: "not JSON (\(error))") }
        guard let object = value.objectValue else { throw DecodingError(reason: "not an object") }
        guard let version = object["v"]?.numberValue else { throw DecodingError(reason: "no version") }
        guard Int(exactly: version) == Self.version else { throw DecodingError(reason: "version \(version), this node speaks \(Self.version)") }
        guard let uid = object["uid"]?.stringValue, let namespace = object["nsp"]?.stringValue,
              let type = object["type"]?.stringValue else { throw DecodingError(reason: "uid, nsp or type missing") }
        self.uid = uid
        self.namespace = namespace
        self.to = object["to"]?.stringValue
        self.seq = try object["seq"].map { try Self.counter($0, "seq") }

        func options() throws -> BroadcastOptions {
            guard let opts = object["opts"]?.objectValue else { throw DecodingError(reason: "\(type) without opts") }
            return BroadcastOptions(rooms: try Self.strings(opts["rooms"], "opts.rooms"), except: try Self.strings(opts["except"], "opts.except"))
        }
        func requestID() throws -> String {
            guard let rid = object["rid"]?.stringValue else { throw DecodingError(reason: "\(type) without rid") }
            return rid
        }
        switch type {
        case "broadcast":
            guard let parts = object["packet"]?.arrayValue, !parts.isEmpty else { throw DecodingError(reason: "broadcast without packet") }
            let messages = try parts.map { part -> EngineMessage in
                if let text = part.stringValue { return .text(text) }
                if let b64 = part["b64"]?.stringValue, let data = Data(base64Encoded: b64) { return .binary(Array(data)) }
                throw DecodingError(reason: "broadcast packet part is neither text nor base64")
            }
            message = .broadcast(try options(), messages)
        case "join": message = .join(try options(), rooms: try Self.strings(object["rooms"], "rooms"))
        case "leave": message = .leave(try options(), rooms: try Self.strings(object["rooms"], "rooms"))
        case "disconnect": message = .disconnect(try options(), close: object["close"]?.boolValue ?? false)
        case "event":
            guard let name = object["event"]?.stringValue else { throw DecodingError(reason: "event without name") }
            message = .event(name: name, args: (object["args"]?.arrayValue ?? []).map(Self.unwrapBinary), requestID: object["rid"]?.stringValue)
        case "fetch": message = .fetchSockets(try options(), requestID: try requestID())
        case "reply": message = .reply(requestID: try requestID(), data: Self.unwrapBinary(object["data"] ?? .null))
        case "heartbeat": message = .heartbeat(last: try Self.counter(object["last"] ?? .null, "last"))
        case "hello": message = .hello
        case "bye": message = .bye
        case "replay":
            message = .replay(from: try Self.counter(object["from"] ?? .null, "from"), upTo: try Self.counter(object["upTo"] ?? .null, "upTo"))
        case "attachment":
            guard let number = object["id"]?.numberValue, let id = Int64(exactly: number), id >= 1 else {
                throw DecodingError(reason: "attachment without id")
            }
            message = .attachment(id: id)
        default:
            throw DecodingError(reason: "unknown type \(type)")
        }
    }

    private static func encode(_ options: BroadcastOptions) -> SocketValue {
        ["rooms": .array(options.rooms.sorted().map { .string($0) }), "except": .array(options.except.sorted().map { .string($0) })]
    }

    private static func strings(_ value: SocketValue?, _ field: String) throws -> Set<String> {
        guard let value else { return [] }
        guard let array = value.arrayValue else { throw DecodingError(reason: "\(field) is not an array") }
        return Set(try array.map { item in
            guard let text = item.stringValue else { throw DecodingError(reason: "\(field) holds a non-string") }
            return text
        })
    }

    private static func counter(_ value: SocketValue, _ field: String) throws -> UInt64 {
        guard let number = value.numberValue, let counter = UInt64(exactly: number), counter < 9_000_000_000_000_000 else {
            throw DecodingError(reason: "\(field) is not a counter")
        }
        return counter
    }

    /// Binary buffers travel as `{"$b64": …}` inside the JSON of server-side events.
    private static func wrapBinary(_ value: SocketValue) -> SocketValue {
        switch value {
        case .binary(let bytes): return ["$b64": .string(Data(bytes).base64EncodedString())]
        case .array(let values): return .array(values.map(wrapBinary))
        case .object(let object):
            return .object(SocketObject(distinctKeys: object.map { SocketObject.Entry(key: $0.key, value: wrapBinary($0.value)) }))
        default: return value
        }
    }

    private static func unwrapBinary(_ value: SocketValue) -> SocketValue {
        switch value {
        case .array(let values): return .array(values.map(unwrapBinary))
        case .object(let object):
            if object.entries.count == 1, let b64 = object["$b64"]?.stringValue, let data = Data(base64Encoded: b64) { return .binary(Array(data)) }
            return .object(SocketObject(distinctKeys: object.map { SocketObject.Entry(key: $0.key, value: unwrapBinary($0.value)) }))
        default: return value
        }
    }
}
