import NIOConcurrencyHelpers

/// A callback that can be replaced while others call it. Not a bare
/// `NIOLockedValueBox<closure>`: `withLockedValue` hands its value over `inout`, and a closure
/// kept as a generic value is converted out of its generic form and back on every access —
/// wrapped in two more reabstraction thunks each time, for good. Kept that way, the engine's
/// connection handler grew by two thunks per connection: the ten-thousandth connect called
/// through twenty thousand of them (a fifth of the CPU of a reconnect storm, and the connect
/// rate falling as connections grew). As a struct's field the closure keeps its one form.
final class LockedHandler<Argument>: Sendable {
    private struct Stored: Sendable { let call: @Sendable (Argument) -> Void }
    private let box: NIOLockedValueBox<Stored>

    init(_ call: @escaping @Sendable (Argument) -> Void) {
        box = NIOLockedValueBox(Stored(call: call))
    }

    func set(_ call: @escaping @Sendable (Argument) -> Void) {
        box.withLockedValue { $0 = Stored(call: call) }
    }

    /// Calls the current callback, outside the lock.
    func callAsFunction(_ argument: Argument) {
        box.withLockedValue { $0 }.call(argument)
    }
}
