import NIOCore
import XCTest
@testable import SocketIO

/// The shared token buckets, with the clock in the test's hands.
final class SharedBudgetsTests: XCTestCase {
    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    private func at(_ seconds: Double) -> NIODeadline { start + .nanoseconds(Int64(seconds * 1e9)) }

    private func taken(_ budgets: SharedBudgets, _ key: String, tries: Int, at time: NIODeadline) -> Int {
        (0..<tries).filter { _ in budgets.take(key, now: time).taken }.count
    }

    func testABurstThenTheRate() {
        let budgets = SharedBudgets(limit: SharedInboundLimit(eventsPerSecond: 10, burst: 20))
        XCTAssertEqual(taken(budgets, "ann", tries: 50, at: at(0)), 20)
        XCTAssertEqual(taken(budgets, "ann", tries: 50, at: at(1)), 10)
        XCTAssertEqual(taken(budgets, "bob", tries: 50, at: at(1)), 20, "each key has its own bucket")
        // Empty: the next token comes in a tenth of a second, and is there then.
        XCTAssertEqual(budgets.take("ann", now: at(1)).wait, 0.1, accuracy: 1e-9)
        XCTAssertEqual(budgets.take("ann", now: at(1.1)).taken, true)
        XCTAssertEqual(budgets.take("carl", now: at(1)).wait, 0, "a full bucket has no wait")
    }

    func testSpendingIsRecordedOnlyWhenAskedAndHandedOverOnce() {
        let budgets = SharedBudgets(limit: SharedInboundLimit(eventsPerSecond: 10, burst: 20))
        _ = taken(budgets, "ann", tries: 3, at: at(0))
        XCTAssertEqual(budgets.takeSpent(), [:])
        budgets.recordSpending()
        _ = taken(budgets, "ann", tries: 30, at: at(0))   // 17 left in the bucket: 17 spent
        _ = taken(budgets, "bob", tries: 2, at: at(0))
        XCTAssertEqual(budgets.takeSpent(), ["ann": 17, "bob": 2])
        XCTAssertEqual(budgets.takeSpent(), [:])
    }

    func testWhatOthersSpentIsChargedHereDownToOneBurstOfDebt() {
        let budgets = SharedBudgets(limit: SharedInboundLimit(eventsPerSecond: 10, burst: 20))
        budgets.charge("ann", events: 15, now: at(0))
        XCTAssertEqual(taken(budgets, "ann", tries: 50, at: at(0)), 5)
        // Far more than a burst spent elsewhere: two seconds of refill pay the debt of one burst.
        budgets.charge("ann", events: 1_000, now: at(0))
        XCTAssertEqual(taken(budgets, "ann", tries: 50, at: at(1.9)), 0)
        XCTAssertEqual(taken(budgets, "ann", tries: 50, at: at(3)), 10)
    }

    func testTwoServersChargingEachOtherAdmitTheRateTogether() {
        // Two servers share a 10/s budget; a key floods both and they hand over every 0.25 s.
        let limit = SharedInboundLimit(eventsPerSecond: 10, burst: 20)
        let servers = [SharedBudgets(limit: limit), SharedBudgets(limit: limit)]
        servers.forEach { $0.recordSpending() }
        var admitted = 0
        for tick in 0..<400 {   // 10 s in steps of 25 ms, 5 tries per server per step (200/s each)
            let now = at(Double(tick) * 0.025)
            for server in servers { admitted += taken(server, "ann", tries: 5, at: now) }
            if tick % 10 == 9 {
                let spent = servers.map { $0.takeSpent()["ann"] ?? 0 }
                servers[0].charge("ann", events: spent[1], now: now)
                servers[1].charge("ann", events: spent[0], now: now)
            }
        }
        // One server alone would admit 20 + 10 × 10 = 120; two without sharing 240.
        XCTAssertLessThanOrEqual(admitted, 120 + 2 * 20 + 10, "the two admitted \(admitted)")
        XCTAssertGreaterThanOrEqual(admitted, 100, "the two admitted \(admitted)")
    }
}
