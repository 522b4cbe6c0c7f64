import Foundation
import NIOConcurrencyHelpers

/// Typing states that end by themselves: a `typing:start` not renewed within 10 s becomes a
/// stop, so a closed tab never leaves someone "typing…" forever.
final class TypingTracker: Sendable {
    static let expiry: Duration = .seconds(10)

    private let generations = NIOLockedValueBox<[String: Int]>([:])

    /// Records a start and calls `expire` after the expiry unless renewed or stopped meanwhile.
    func start(_ key: String, expire: @escaping @Sendable () -> Void) {
        let generation = generations.withLockedValue { table -> Int in
            table[key, default: 0] += 1
            return table[key]!
        }
        Task {
            try? await Task.sleep(for: Self.expiry)
            let current = generations.withLockedValue { $0[key] }
            if current == generation {
                generations.withLockedValue { $0[key] = nil }
                expire()
            }
        }
    }

    /// Ends a typing state; returns whether one was active.
    @discardableResult
    func stop(_ key: String) -> Bool {
        generations.withLockedValue { $0.removeValue(forKey: key) != nil }
    }

    /// Ends every typing state whose key starts with `prefix` (a user going offline).
    func stopAll(prefix: String) -> [String] {
        generations.withLockedValue { table in
            let keys = table.keys.filter { $0.hasPrefix(prefix) }
            for key in keys { table[key] = nil }
            return keys
        }
    }
}
