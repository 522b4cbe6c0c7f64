import NIOConcurrencyHelpers
import XCTVapor
@testable import ChatrServer

/// Typing states end by themselves, can be renewed or stopped, and die with the application.
final class TypingTrackerTests: XCTestCase {
    let ann = UUID(), bob = UUID(), here = UUID(), there = UUID()

    func waitUntil(_ condition: @escaping () -> Bool, timeout: Duration = .seconds(3)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
    }

    func testATypingStateExpiresUnlessRenewedOrStopped() async throws {
        let tracker = TypingTracker(expiry: .milliseconds(150))
        let expired = NIOLockedValueBox<[String]>([])
        tracker.start(.init(user: ann, conversation: here)) { expired.withLockedValue { $0.append("ann") } }
        tracker.start(.init(user: bob, conversation: here)) { expired.withLockedValue { $0.append("bob") } }
        try await Task.sleep(for: .milliseconds(80))
        // Renewed: its clock starts again; stopped: it never expires.
        tracker.start(.init(user: ann, conversation: here)) { expired.withLockedValue { $0.append("ann renewed") } }
        XCTAssertTrue(tracker.stop(.init(user: bob, conversation: here)))
        XCTAssertFalse(tracker.stop(.init(user: bob, conversation: here)), "stopping twice finds nothing")
        try await waitUntil { !expired.withLockedValue { $0 }.isEmpty }
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertEqual(expired.withLockedValue { $0 }, ["ann renewed"], "one expiry, from the renewal; none for the stopped one")
    }

    func testStopAllEndsEveryStateOfAUser() {
        let tracker = TypingTracker(expiry: .seconds(60))
        tracker.start(.init(user: ann, conversation: here)) {}
        tracker.start(.init(user: ann, conversation: there)) {}
        tracker.start(.init(user: bob, conversation: here)) {}
        XCTAssertEqual(Set(tracker.stopAll(of: ann)), [here, there])
        XCTAssertEqual(tracker.stopAll(of: ann), [])
        XCTAssertTrue(tracker.stop(.init(user: bob, conversation: here)), "others are untouched")
    }

    func testShutdownCancelsTheTimers() async throws {
        let app = try await Application.make(.testing)
        let tracker = TypingTracker(expiry: .milliseconds(100))
        let expired = NIOLockedValueBox(false)
        tracker.start(.init(user: ann, conversation: here)) { expired.withLockedValue { $0 = true } }
        await tracker.shutdownAsync(app)
        try await Task.sleep(for: .milliseconds(250))
        XCTAssertFalse(expired.withLockedValue { $0 }, "no timer outlives the application")
        try await app.asyncShutdown()
    }
}
