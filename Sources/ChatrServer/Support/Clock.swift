import Foundation
import NIOConcurrencyHelpers

/// The application's notion of "now". Live code reads the system clock; tests move it forward to
/// expire codes and tokens without sleeping.
public final class AppClock: Sendable {
    private let offset = NIOLockedValueBox<TimeInterval>(0)

    public init() {}

    public var now: Date { Date().addingTimeInterval(offset.withLockedValue { $0 }) }

    /// Moves this clock forward (tests only).
    public func advance(by seconds: TimeInterval) {
        offset.withLockedValue { $0 += seconds }
    }
}
