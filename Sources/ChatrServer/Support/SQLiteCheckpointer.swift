import FluentSQLiteDriver
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Vapor

/// Copies SQLite's write-ahead log back into the database file, off the write path.
///
/// By default SQLite checkpoints inside whichever commit pushes the log past 1,000 pages: that
/// send waits for the whole copy and its fsync, and on the single write path every send behind it
/// waits too (p99 of direct messages at 2,000/s was about 100 ms because of it). So automatic
/// checkpoints are off on every pooled connection, and checkpointing is in two steps:
///
/// 1. Once a second a PASSIVE checkpoint runs here, on its own connection and thread: it copies
///    the bulk of the log while sends go on (it blocks no writer or reader).
/// 2. Under continuous writes that alone never lets the log start over (new frames arrive while
///    it copies, and SQLite rewinds the log only when a write begins with everything copied), so
///    the message writer calls `catchUp(on:)` between batches: after each background pass it runs
///    one more PASSIVE checkpoint inline, which only has the last few batches left to copy. The
///    next batch then rewinds the log, which stays a few MB instead of growing without bound.
final class SQLiteCheckpointer: LifecycleHandler, Sendable {
    private struct State {
        var connection: SQLiteConnection?
        var task: RepeatedTask?
        var backgroundPassFinished = false
    }

    private let path: String
    private let interval: TimeAmount
    /// The log is rewound (step 2) once it holds this many pages (4 KB each): rarely enough that
    /// the inline pass — which waits for an fsync — is seldom in a send's way.
    private let rewindAfterFrames: Int
    private let threadPool = NIOThreadPool(numberOfThreads: 1)
    private let state = NIOLockedValueBox(State())

    init(path: String, interval: TimeAmount = .seconds(1), rewindAfterFrames: Int = 16_384) {
        self.path = path
        self.interval = interval
        self.rewindAfterFrames = rewindAfterFrames
    }

    func didBootAsync(_ app: Application) async throws {
        threadPool.start()
        let loop = app.eventLoopGroup.next()
        let connection = try await SQLiteConnection.open(storage: .file(path: path), threadPool: threadPool, logger: app.logger, on: loop)
        let task = loop.scheduleRepeatedAsyncTask(initialDelay: interval, delay: interval) { [state, rewindAfterFrames] _ in
            loop.makeFutureWithTask {
                // A failure (the file busy, shutting down) only means: next time.
                let frames = NIOLockedValueBox(0)
                guard (try? await connection.query("PRAGMA wal_checkpoint(PASSIVE)", []) { row in
                    frames.withLockedValue { $0 = row.column("log")?.integer ?? 0 }
                }) != nil else { return }
                let logFrames = frames.withLockedValue { $0 }
                state.withLockedValue { $0.backgroundPassFinished = logFrames >= rewindAfterFrames }
            }
        }
        state.withLockedValue { $0.connection = connection; $0.task = task }
    }

    /// Step 2 above; cheap when no background pass has finished since the last call.
    func catchUp(on db: any SQLDatabase) async {
        let due = state.withLockedValue { state in
            defer { state.backgroundPassFinished = false }
            return state.backgroundPassFinished
        }
        if due { try? await db.raw("PRAGMA wal_checkpoint(PASSIVE)").run() }
    }

    func shutdownAsync(_ app: Application) async {
        let (connection, task) = state.withLockedValue { state in
            defer { state = State() }
            return (state.connection, state.task)
        }
        task?.cancel()
        try? await connection?.close()
        try? await threadPool.shutdownGracefully()
    }
}
