import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SocketIO
import WebSocketKit

/// Benchmarks of the SocketIO library (release build: `swift run -c release socketio-bench …`):
///   codec [--iterations N]   encode + decode of a typical 200-byte event, packets/s on one core
///   connections --url ws://127.0.0.1:3000 --count 10000 [--hold 30] [--server-pid PID]
///                            open N Socket.IO WebSocket sessions, hold them with heartbeats,
///                            report connect rate, failures and the server's RSS
func option(_ name: String, _ fallback: String) -> String {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: "--" + name), i + 1 < args.count else { return fallback }
    return args[i + 1]
}

func rssMegabytes(pid: String) -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
    return kb / 1024
}

func cpuSeconds(pid: String) -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
    let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / 100
}

func machine() -> String {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let memory = Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824
    return "\(cores) cores, \(String(format: "%.0f", memory)) GiB"
}

// MARK: codec

func codecBenchmark() {
    let iterations = Int(option("iterations", "1000000")) ?? 1_000_000
    let event = SocketPacket(.event, namespace: "/", id: 42, data: [
        "message:send",
        ["recipientId": "7d4f2a56-8f0e-4a51-9c55-2f6f1d0b9e10", "clientMessageId": "c-1732572400123-af31",
         "content": "Hey! Are we still on for lunch tomorrow at noon? I can book the usual place.", "type": "text"],
    ])
    let sample = SocketCodec.encode(event).text
    var checksum = 0
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<iterations {
        let text = SocketCodec.encode(event).text
        let decoded = try! SocketCodec.decode(text)
        checksum &+= decoded.packet.id ?? 0
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    print("codec: \(sample.utf8.count)-byte event, \(iterations) encode+decode in \(String(format: "%.2f", seconds)) s")
    print("       \(String(format: "%.0f", Double(iterations) / seconds)) packets/s on one core (checksum \(checksum)) — \(machine())")
}

// MARK: connections

final class Counters: Sendable {
    let connected = NIOLockedValueBox(0)
    let failed = NIOLockedValueBox(0)
    let closed = NIOLockedValueBox(0)
}

func connectionsBenchmark() async throws {
    let url = option("url", "ws://127.0.0.1:3000")
    let count = Int(option("count", "10000")) ?? 10_000
    let hold = Double(option("hold", "30")) ?? 30
    let inFlight = Int(option("concurrency", "200")) ?? 200
    let pid = option("server-pid", "")
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let counters = Counters()
    let sockets = NIOLockedValueBox<[WebSocket]>([])
    let ownPID = String(ProcessInfo.processInfo.processIdentifier)
    let serverCPUBefore = cpuSeconds(pid: pid) ?? 0
    let rssBefore = rssMegabytes(pid: pid)

    func open() async {
        let done = group.next().makePromise(of: Void.self)
        WebSocket.connect(to: url + "/socket.io/?EIO=4&transport=websocket", on: group) { ws in
            sockets.withLockedValue { $0.append(ws) }
            ws.onText { ws, text in
                if text == "2" { ws.send("3") }
                else if text.hasPrefix("0{") { ws.send("40") }
                else if text.hasPrefix("40") { counters.connected.withLockedValue { $0 += 1 }; done.succeed(()) }
            }
            ws.onClose.whenComplete { _ in counters.closed.withLockedValue { $0 += 1 }; done.succeed(()) }
        }.whenFailure { _ in counters.failed.withLockedValue { $0 += 1 }; done.succeed(()) }
        try? await done.futureResult.get()
    }

    let start = DispatchTime.now().uptimeNanoseconds
    await withTaskGroup(of: Void.self) { tasks in
        var started = 0
        while started < min(inFlight, count) { tasks.addTask { await open() }; started += 1 }
        while await tasks.next() != nil {
            if started < count { tasks.addTask { await open() }; started += 1 }
        }
    }
    let connectSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let connected = counters.connected.withLockedValue { $0 }
    print("connections: \(connected)/\(count) connected in \(String(format: "%.1f", connectSeconds)) s "
          + "(\(String(format: "%.0f", Double(connected) / connectSeconds))/s), \(counters.failed.withLockedValue { $0 }) failed")
    if let rss = rssMegabytes(pid: pid) { print("server RSS after connect: \(String(format: "%.0f", rss)) MB (before: \(String(format: "%.0f", rssBefore ?? 0)) MB)") }
    try await Task.sleep(for: .seconds(hold))
    let dropped = counters.closed.withLockedValue { $0 }
    print("after holding \(Int(hold)) s with heartbeats: \(connected - dropped) still open, \(dropped) closed")
    if let rss = rssMegabytes(pid: pid) { print("server RSS while holding: \(String(format: "%.0f", rss)) MB") }
    if let cpu = cpuSeconds(pid: pid) { print("server CPU during the run: \(String(format: "%.1f", cpu - serverCPUBefore)) s") }
    if let own = cpuSeconds(pid: ownPID) {
        print("this client's CPU: \(String(format: "%.1f", own)) s over \(String(format: "%.0f", connectSeconds + hold)) s — \(machine())")
    }
    for ws in sockets.withLockedValue({ $0 }) { ws.close(code: .normalClosure, promise: nil) }
    try await Task.sleep(for: .seconds(1))
    try await group.shutdownGracefully()
}

switch CommandLine.arguments.dropFirst().first {
case "codec": codecBenchmark()
case "connections": try await connectionsBenchmark()
default: print("usage: socketio-bench codec [--iterations N] | connections --url ws://HOST:PORT --count N [--hold S] [--server-pid PID]")
}
