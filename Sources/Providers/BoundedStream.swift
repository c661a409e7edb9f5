import Synchronization

/// A stream from one producer to one consumer that holds at most `limit` bytes (as `weigh` counts
/// them): `send` waits while it is full, so the producer runs only as fast as the consumer reads. When
/// the consumer leaves (drops its iterator, or its task is cancelled) `send` answers false and
/// `onTermination` runs, so the producer stops too. Unlike `AsyncThrowingStream`, nothing here grows
/// without bound when a reader is slow.
public final class BoundedStream<Element: Sendable>: AsyncSequence, Sendable {
    public typealias Failure = any Error

    private enum Ending {
        case finished
        case failed(any Error)
    }

    private struct State {
        var buffer: [(element: Element, weight: Int)] = []
        var head = 0
        var bytes = 0
        var ending: Ending?
        var consumerGone = false
        var consumer: CheckedContinuation<Void, Never>?
        var producer: CheckedContinuation<Void, Never>?
        var producerCancelled = false
        var consumerCancelled = false
        var onTermination: (@Sendable () -> Void)?

        var isEmpty: Bool { head == buffer.count }

        mutating func pop() -> Element {
            let (element, weight) = buffer[head]
            head += 1
            bytes -= weight
            if head == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 64, head * 2 > buffer.count {
                buffer.removeFirst(head)
                head = 0
            }
            return element
        }
    }

    private enum SendStep {
        case taken(CheckedContinuation<Void, Never>?)
        case refused
        case wait
    }

    private enum NextStep {
        case element(Element, CheckedContinuation<Void, Never>?)
        case end(Ending)
        case wait
    }

    private let state = Mutex(State())
    /// The bytes held before `send` waits; one element is always taken, however large.
    public let limit: Int
    private let weigh: @Sendable (Element) -> Int

    public init(limit: Int, weigh: @escaping @Sendable (Element) -> Int) {
        self.limit = Swift.max(1, limit)
        self.weigh = weigh
    }

    /// A stream of `elements` already in hand (small, so held whole), then its end.
    public static func of(_ elements: [Element]) -> BoundedStream where Element == ChatStreamEvent {
        let stream = BoundedStream(limit: .max, weigh: { _ in 0 })
        let task = Task {
            for element in elements {
                guard await stream.send(element) else { return }
            }
            stream.finish()
        }
        stream.onTermination = { task.cancel() }
        return stream
    }

    /// Runs when the consumer leaves before the stream ended (at once if it already has).
    public var onTermination: (@Sendable () -> Void)? {
        get { state.withLock { $0.onTermination } }
        set {
            let runNow = state.withLock { state -> Bool in
                guard !state.consumerGone else { return true }
                state.onTermination = newValue
                return false
            }
            if runNow { newValue?() }
        }
    }

    /// Whether the consumer has left.
    public var consumerLeft: Bool { state.withLock { $0.consumerGone } }

    /// Queues `element`, waiting while the stream is full. Answers false (and drops it) when the
    /// consumer has left, the stream has ended, or the producer's task was cancelled while waiting.
    public func send(_ element: Element) async -> Bool {
        let weight = Swift.max(0, weigh(element))
        while true {
            let step = state.withLock { state -> SendStep in
                if state.consumerGone || state.ending != nil { return .refused }
                guard state.bytes == 0 || state.bytes + weight <= limit else { return .wait }
                state.buffer.append((element, weight))
                state.bytes += weight
                defer { state.consumer = nil }
                return .taken(state.consumer)
            }
            switch step {
            case .taken(let consumer):
                consumer?.resume()
                return true
            case .refused:
                return false
            case .wait:
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let resumeNow = state.withLock { state -> Bool in
                            let roomOrEnd =
                                state.consumerGone || state.ending != nil || state.bytes + weight <= limit
                                || state.bytes == 0
                            if roomOrEnd || state.producerCancelled { return true }
                            state.producer = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    let waiting = state.withLock { state -> CheckedContinuation<Void, Never>? in
                        state.producerCancelled = true
                        defer { state.producer = nil }
                        return state.producer
                    }
                    waiting?.resume()
                }
                if Task.isCancelled { return false }
            }
        }
    }

    /// Ends the stream after what it holds; with an error, the consumer gets it after the last element.
    /// Later calls change nothing.
    public func finish(throwing error: (any Error)? = nil) {
        let consumer = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.ending == nil else { return nil }
            state.ending = error.map { .failed($0) } ?? .finished
            defer { state.consumer = nil }
            return state.consumer
        }
        consumer?.resume()
    }

    /// The consumer leaves: what is held is dropped, a waiting producer is told, `onTermination` runs.
    func leave() {
        let (producer, consumer, termination) = state.withLock { state in
            let ended = state.ending != nil && state.isEmpty
            state.consumerGone = true
            state.buffer.removeAll()
            state.head = 0
            state.bytes = 0
            defer {
                state.producer = nil
                state.consumer = nil
                state.onTermination = nil
            }
            return (state.producer, state.consumer, ended ? nil : state.onTermination)
        }
        producer?.resume()
        consumer?.resume()
        termination?()
    }

    func next() async throws -> Element? {
        while true {
            let step = state.withLock { state -> NextStep in
                if !state.isEmpty {
                    let element = state.pop()
                    defer { state.producer = nil }
                    return .element(element, state.producer)
                }
                if let ending = state.ending {
                    // An error is thrown once; afterwards the stream just ends.
                    state.ending = .finished
                    return .end(ending)
                }
                if state.consumerGone { return .end(.finished) }
                return .wait
            }
            switch step {
            case .element(let element, let producer):
                producer?.resume()
                return element
            case .end(.finished):
                return nil
            case .end(.failed(let error)):
                throw error
            case .wait:
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let resumeNow = state.withLock { state -> Bool in
                            if !state.isEmpty || state.ending != nil || state.consumerGone
                                || state.consumerCancelled
                            {
                                return true
                            }
                            state.consumer = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    state.withLock { $0.consumerCancelled = true }
                    leave()
                }
                if Task.isCancelled {
                    leave()
                    return nil
                }
            }
        }
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(stream: self, departure: Departure(stream: self))
    }

    /// Reads the stream; dropping the last copy of it counts as the consumer leaving.
    public struct Iterator: AsyncIteratorProtocol {
        let stream: BoundedStream
        let departure: Departure

        public mutating func next() async throws -> Element? {
            try await stream.next()
        }
    }

    /// Tells the stream its consumer left when the iterator holding it goes away.
    final class Departure: Sendable {
        let stream: BoundedStream

        init(stream: BoundedStream) { self.stream = stream }

        deinit { stream.leave() }
    }
}
