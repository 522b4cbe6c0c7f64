import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// Socket.IO connection state recovery (v4.6+): a client that loses its connection and comes
/// back within `maxDisconnectionDuration` with `{pid, offset}` in its CONNECT payload gets its
/// socket id, rooms and data back, and every broadcast it missed, in order; `socket.recovered`
/// tells the handlers. Otherwise (too late, unknown pid, offset no longer kept) it is a fresh
/// connection. Off unless set in `SocketIOOptions.connectionStateRecovery`.
public struct ConnectionStateRecovery: Sendable {
    /// Which sockets get the offset as the last argument of every broadcast event.
    public enum Offsets: Sendable {
        /// All of them, as the reference server does.
        case everySocket
        /// Only sockets whose CONNECT payload asked (`recover: true`, or a `pid` of their own):
        /// a client that knows nothing of recovery (python-socketio) would otherwise see an
        /// extra argument on every event and handlers that take one argument would break.
        case socketsThatAsk
    }

    /// How long a disconnected socket's state is kept.
    public var maxDisconnectionDuration: Duration
    /// At most this many broadcasts are kept for replay (the oldest go first): memory stays
    /// bounded however busy the server. A client whose offset is older gets a fresh connection.
    public var maxPackets: Int
    public var offsets: Offsets

    public init(maxDisconnectionDuration: Duration = .seconds(120), maxPackets: Int = 20_000, offsets: Offsets = .everySocket) {
        self.maxDisconnectionDuration = maxDisconnectionDuration
        self.maxPackets = maxPackets
        self.offsets = offsets
    }
}

/// A disconnected socket's state, kept for recovery.
struct RecoverableSession: Sendable {
    var pid: String
    var socketID: String
    var rooms: Set<String>
    var storage: [ObjectIdentifier: any Sendable]
    /// Who may take the session back (`Socket.recoveryKey`): a socket that authenticates as
    /// someone else gets a fresh connection instead.
    var key: String?
    var disconnectedAt: NIODeadline
}

/// One namespace's recovery state on this node: the sessions of sockets that went away, and the
/// broadcasts of the last `maxDisconnectionDuration`, numbered. Offsets name this process
/// (`epoch`): after a restart an old offset is unknown and the client connects afresh.
final class RecoveryStore: Sendable {
    struct Entry: Sendable {
        let number: UInt64
        let at: NIODeadline
        let packet: EncodedPacket
        let options: BroadcastOptions
    }

    private struct State {
        var next: UInt64 = 1
        var log: CircularBuffer<Entry> = CircularBuffer(initialCapacity: 1024)
        var sessions: [String: RecoverableSession] = [:]
    }

    let settings: ConnectionStateRecovery
    private let epoch = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    private let state = NIOLockedValueBox(State())

    init(_ settings: ConnectionStateRecovery) {
        self.settings = settings
    }

    /// Numbers a broadcast and keeps it as it is; returns its number. The copy with the offset
    /// appended is made only for sockets that take offsets (`stamped`), and at replay.
    func append(_ packet: EncodedPacket, options: BroadcastOptions) -> UInt64 {
        let now = NIODeadline.now()
        return state.withLockedValue { state in
            let number = state.next
            state.next += 1
            state.log.append(Entry(number: number, at: now, packet: packet, options: options))
            prune(&state, now: now)
            if number % 4096 == 0 { pruneSessions(&state, now: now) }
            return number
        }
    }

    /// The broadcast numbered `number`, with its offset as the last argument.
    func stamped(_ packet: EncodedPacket, number: UInt64) -> EncodedPacket {
        var stamped = packet.appendingOffset(epoch + "-" + String(number, radix: 36))
        stamped.recoveryNumber = number
        return stamped
    }

    func persist(_ session: RecoverableSession) {
        state.withLockedValue { state in
            state.sessions[session.pid] = session
            // Expired sessions are swept now and then, not on every disconnect (a mass
            // disconnect would otherwise cost the square of its size).
            if state.sessions.count % 1024 == 0 { pruneSessions(&state, now: .now()) }
        }
    }

    /// The session of `pid`, taken out of the store, if it is still kept and `offset` is one
    /// this node still has (or the newest): recovery can then replay from it.
    func take(pid: String, offset: String) -> (session: RecoverableSession, after: UInt64)? {
        state.withLockedValue { state in
            prune(&state, now: .now())
            guard let number = number(of: offset, in: state), let session = state.sessions.removeValue(forKey: pid),
                  NIODeadline.now() - session.disconnectedAt <= window else { return nil }
            return (session, number)
        }
    }

    /// Puts back a session taken by a socket that turned out not to be its owner.
    func putBack(_ session: RecoverableSession) {
        state.withLockedValue { $0.sessions[session.pid] = session }
    }

    /// The broadcasts after `number` that reach a socket in `rooms` (with `socketID`), oldest
    /// first. Only the tail after `number` is copied under the lock (found by bisection: the log
    /// is in number order), and filtered outside it — a reconnect storm does not stall broadcasts.
    func missed(after number: UInt64, rooms: Set<String>) -> [EncodedPacket] {
        let tail: [Entry] = state.withLockedValue { state in
            var low = state.log.startIndex, high = state.log.endIndex
            while low < high {
                let middle = state.log.index(low, offsetBy: state.log.distance(from: low, to: high) / 2)
                if state.log[middle].number <= number { low = state.log.index(after: middle) } else { high = middle }
            }
            return Array(state.log[low...])
        }
        return tail.filter { entry in
            let options = entry.options
            if !options.rooms.isEmpty && options.rooms.isDisjoint(with: rooms) { return false }
            return options.except.isDisjoint(with: rooms)
        }.map { stamped($0.packet, number: $0.number) }
    }

    /// An offset of this process that is still in the log, or the newest one issued.
    private func number(of offset: String, in state: State) -> UInt64? {
        let parts = offset.split(separator: "-")
        guard parts.count == 2, parts[0] == epoch, let number = UInt64(parts[1], radix: 36), number < state.next else { return nil }
        let oldest = state.log.first?.number ?? state.next
        return number + 1 >= oldest ? number : nil
    }

    private var window: TimeAmount {
        let duration = settings.maxDisconnectionDuration.components
        return .nanoseconds(duration.seconds * 1_000_000_000 + duration.attoseconds / 1_000_000_000)
    }

    private func prune(_ state: inout State, now: NIODeadline) {
        let window = self.window
        while let first = state.log.first, state.log.count > settings.maxPackets || now - first.at > window {
            state.log.removeFirst()
        }
    }

    private func pruneSessions(_ state: inout State, now: NIODeadline) {
        let window = self.window
        state.sessions = state.sessions.filter { now - $0.value.disconnectedAt <= window }
    }
}

extension EncodedPacket {
    /// The same event with `offset` as its last argument: `…["event",…]` becomes
    /// `…["event",…,"offset"]` — the text is edited, not encoded again.
    func appendingOffset(_ offset: String) -> EncodedPacket {
        var messages = prepared.messages
        guard case .text(let text) = messages.first, text.hasSuffix("]") else { return self }
        messages[0] = .text(String(text.dropLast()) + ",\"" + offset + "\"]")
        var stamped = EncodedPacket(messages: messages)
        stamped.offset = offset
        return stamped
    }
}

