import Foundation
import NIOConcurrencyHelpers
import SocketIO

/// An event the domain wants delivered, addressed by meaning (a user's devices, a
/// conversation's members) rather than by socket. Services return these; the transport
/// (REST handler or socket handler) hands them to the `EventPublisher`.
struct RealtimeEvent: Sendable {
    enum Target: Sendable, Hashable {
        case user(UUID)
        case conversation(UUID)
        /// The sockets signed in with one session (one token).
        case session(UUID)
        /// The members of any of these conversations; a socket in several gets the event once.
        case conversations([UUID])

        /// The room of a single target (`.conversations` has several: see `rooms`).
        var room: String {
            switch self {
            case .user(let id): return "user:" + id.wire
            case .conversation(let id): return "conversation:" + id.wire
            case .session(let id): return "session:" + id.wire
            case .conversations(let ids): return ids.first.map { "conversation:" + $0.wire } ?? ""
            }
        }

        var rooms: [String] {
            if case .conversations(let ids) = self { return ids.map { "conversation:" + $0.wire } }
            return [room]
        }
    }

    var target: Target
    /// Sockets in this room are left out (a user's own devices, for "others are typing").
    var except: Target?
    var name: String
    var payload: SocketValue
    /// Not a message to clients: the connected devices of these users join the target
    /// conversation's room (a conversation that did not exist when they connected).
    var joiningUsers: [UUID] = []
    /// Likewise, the devices of these users leave the room — at once, so a removed member
    /// hears nothing more.
    var leavingUsers: [UUID] = []
    /// Not a message either: the target's sockets are disconnected (signed out, sessions revoked).
    var disconnects = false

    static func join(_ users: [UUID], to conversationID: UUID) -> RealtimeEvent {
        var event = RealtimeEvent("", to: .conversation(conversationID), value: .null)
        event.joiningUsers = users
        return event
    }

    static func leave(_ users: [UUID], from conversationID: UUID) -> RealtimeEvent {
        var event = RealtimeEvent("", to: .conversation(conversationID), value: .null)
        event.leavingUsers = users
        return event
    }

    /// Disconnects the target's sockets: a revoked token must stop receiving at once (SPEC §4).
    static func disconnect(_ target: Target) -> RealtimeEvent {
        var event = RealtimeEvent("", to: target, value: .null)
        event.disconnects = true
        return event
    }

    init<Payload: Encodable>(_ name: String, to target: Target, except: Target? = nil, _ payload: Payload) throws {
        self.name = name
        self.target = target
        self.except = except
        self.payload = try EventPayload.encode(payload)
    }

    init(_ name: String, to target: Target, except: Target? = nil, value: SocketValue) {
        self.name = name
        self.target = target
        self.except = except
        self.payload = value
    }
}

/// What a service call produced, and the events to deliver because of it.
struct ServiceOutcome<Value> {
    var value: Value
    var events: [RealtimeEvent]
}

/// Encodes event payloads with the same JSON conventions as REST (ISO 8601 dates with ms).
enum EventPayload {
    /// Messages, the payload of every send, skip the JSON round trip.
    static func encode(_ message: MessageDTO) -> SocketValue { message.socketValue }

    /// Straight to a `SocketValue` (dates as ISO 8601 with milliseconds). A value that cannot be
    /// encoded is an error for the caller, never a silent `null` on the wire.
    static func encode<T: Encodable>(_ value: T) throws -> SocketValue {
        try SocketValueEncoder().encode(value)
    }
}

/// Delivers events to sockets. Until the realtime layer is attached (or in a process without
/// one) events go nowhere.
final class EventPublisher: Sendable {
    private let namespace = NIOLockedValueBox<Namespace?>(nil)

    func attach(_ namespace: Namespace) {
        self.namespace.withLockedValue { $0 = namespace }
    }

    /// Room joins, leaves and disconnects act on every node's sockets (`socketsJoin` & co. go
    /// through the adapter), as broadcasts do.
    func publish(_ events: [RealtimeEvent]) {
        guard let namespace = namespace.withLockedValue({ $0 }) else { return }
        for event in events {
            // Never `to([])`: no rooms means every socket.
            let rooms = event.target.rooms
            guard !rooms.isEmpty else { continue }
            if event.disconnects {
                namespace.to(rooms).disconnectSockets()
                continue
            }
            if !event.joiningUsers.isEmpty || !event.leavingUsers.isEmpty {
                if !event.joiningUsers.isEmpty { namespace.to(Self.rooms(of: event.joiningUsers)).socketsJoin(event.target.room) }
                if !event.leavingUsers.isEmpty { namespace.to(Self.rooms(of: event.leavingUsers)).socketsLeave(event.target.room) }
                continue
            }
            var broadcast = namespace.to(rooms)
            if let except = event.except { broadcast = broadcast.except(except.rooms) }
            broadcast.emit(event.name, event.payload)
        }
    }

    private static func rooms(of users: [UUID]) -> [String] { users.map { RealtimeEvent.Target.user($0).room } }
}
