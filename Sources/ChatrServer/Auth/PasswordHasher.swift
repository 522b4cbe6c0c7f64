import Vapor

/// bcrypt on the thread pool, so hashing never blocks an event loop.
struct PasswordHasher: Sendable {
    let cost: Int
    let threadPool: NIOThreadPool
    /// Verified against when the account does not exist, so a wrong username costs the same time
    /// as a wrong password: made with the same cost as real hashes (a cheaper one would tell an
    /// attacker in milliseconds which accounts exist).
    let decoy: String

    init(cost: Int, threadPool: NIOThreadPool) {
        self.cost = cost
        self.threadPool = threadPool
        decoy = try! Bcrypt.hash("decoy-password-for-timing", cost: cost)
    }

    func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await threadPool.runIfActive { try Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, against hash: String?) async -> Bool {
        let target = hash ?? decoy
        let matches = (try? await threadPool.runIfActive { try Bcrypt.verify(password, created: target) }) ?? false
        return matches && hash != nil
    }
}
