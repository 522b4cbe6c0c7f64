import Foundation
import NIOConcurrencyHelpers

/// Serialises write transactions when the database is SQLite. SQLite allows one writer at a
/// time, and the driver's busy handler retries in a tight loop: two connections writing at once
/// burn CPU while they wait for each other (the direct-message benchmark went from 200 to
/// thousands of messages per second once writes queued here instead). On PostgreSQL it does
/// nothing.
final class WriteGate: Sendable {
    private struct State { var busy = false; var waiters: [CheckedContinuation<Void, Never>] = [] }
    private let state = NIOLockedValueBox(State())
    let enabled: Bool

    init(enabled: Bool) { self.enabled = enabled }

    func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        guard enabled else { return try await body() }
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { continuation in
            let free = state.withLockedValue { state -> Bool in
                if state.busy { state.waiters.append(continuation); return false }
                state.busy = true
                return true
            }
            if free { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty { state.busy = false; return nil }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
