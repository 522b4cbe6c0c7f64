import NIOConcurrencyHelpers

/// The feed's newest position for live events (`publishChanges`), read once for many: every
/// change event needs a position read *after* its change was stored, and under load thousands
/// a second would each cost a database round trip. Callers queue; one read serves everyone who
/// was queued when it started (their changes were stored before it began), and whoever comes
/// during a read waits for the next one. So there is at most one read in flight, and its result
/// is never older than a caller's change.
final class FeedPosition: Sendable {
    private struct State {
        var reading = false
        var queued: [CheckedContinuation<Int64, any Error>] = []
    }

    private let state = NIOLockedValueBox(State())

    func read(_ fetch: @escaping @Sendable () async throws -> Int64) async throws -> Int64 {
        try await withCheckedThrowingContinuation { continuation in
            let leads = state.withLockedValue { state -> Bool in
                state.queued.append(continuation)
                guard !state.reading else { return false }
                state.reading = true
                return true
            }
            guard leads else { return }
            Task { await self.drain(fetch) }
        }
    }

    private func drain(_ fetch: @Sendable () async throws -> Int64) async {
        while true {
            let batch = state.withLockedValue { state -> [CheckedContinuation<Int64, any Error>] in
                if state.queued.isEmpty { state.reading = false }
                defer { state.queued = [] }
                return state.queued
            }
            guard !batch.isEmpty else { return }
            let result = await Result(catching: { try await fetch() })
            for waiter in batch { waiter.resume(with: result) }
        }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
