import NIOConcurrencyHelpers
import XCTVapor
@testable import ChatrServer

/// Typing states end by themselves, can be renewed or stopped, and die with the application.
final class TypingTrackerTests: XCTestCase {
    let ann = UUID(), bob = UUID(), here = UUID(), there = UUID()

    func waitUntil(_ condition: @escaping () -> Bool, timeout: Duration = .seconds(10), file: StaticString = #filePath, line: UInt = #line) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        if !condition() { XCTFail("timed out", file: file, line: line) }
    }

    func testATypingStateExpiresUnlessRenewedOrStopped() async throws {
        // Generous times: the renewal must come before the first expiry even on a loaded machine
        // (or under ThreadSanitizer); nothing below waits for a fixed time to pass an assertion.
        let tracker = TypingTracker(expiry: .seconds(2))
        let expired = NIOLockedValueBox<[String]>([])
        tracker.start(.init(user: ann, conversation: here)) { expired.withLockedValue { $0.append("ann") } }
        tracker.start(.init(user: bob, conversation: here)) { expired.withLockedValue { $0.append("bob") } }
        try await Task.sleep(for: .milliseconds(50))
        // Renewed: its clock starts again; stopped: it never expires.
        tracker.start(.init(user: ann, conversation: here)) { expired.withLockedValue { $0.append("ann renewed") } }
        XCTAssertTrue(tracker.stop(.init(user: bob, conversation: here)))
        XCTAssertFalse(tracker.stop(.init(user: bob, conversation: here)), "stopping twice finds nothing")
        try await waitUntil { !expired.withLockedValue { $0 }.isEmpty }
        XCTAssertEqual(expired.withLockedValue { $0 }, ["ann renewed"], "the renewal's expiry, not the first one's")
        try await Task.sleep(for: .milliseconds(300))
        XCTAssertEqual(expired.withLockedValue { $0 }, ["ann renewed"], "and none for the stopped one")
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
        let tracker = TypingTracker(expiry: .seconds(1))
        let expired = NIOLockedValueBox(false)
        tracker.start(.init(user: ann, conversation: here)) { expired.withLockedValue { $0 = true } }
        await tracker.shutdownAsync(app)
        try await Task.sleep(for: .milliseconds(1500))
        XCTAssertFalse(expired.withLockedValue { $0 }, "no timer outlives the application")
        try await app.asyncShutdown()
    }
}
