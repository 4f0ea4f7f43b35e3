// Fans a session's events out to its frontends, each through its own bounded queue and task.
import Logging
import Synchronization

/// Delivers `SessionEvent`s to a set of frontends (the host's `host.frontends`, a relay's recorder).
///
/// `publish` never waits: each frontend has its own byte-bounded queue drained by its own task, so a
/// slow frontend does not slow the PTY, the relay link or the other frontends. When a queue
/// overflows its backlog is dropped and the frontend gets a `.marker` saying how much was lost. A frontend
/// that throws is detached (its queue closed) and reported; the session goes on.
public final class FrontendHub: Sendable {
    private struct Member: Sendable {
        let frontend: any Frontend
        let queue: OutboundQueue<SessionEvent>
    }

    private let members = Mutex<[Member]>([])
    private let tasks = Mutex<[Task<Void, Never>]>([])
    private let detachedNames = Mutex<[String]>([])
    private let queueBytes: Int
    private let logger: Logger
    private let report: @Sendable (String) async -> Void

    /// An empty hub (publishing to it costs next to nothing until `start`).
    /// `report` hears about detached frontends and dropped events (e.g. the host's message log).
    public init(queueBytes: Int = 32 << 20, logger: Logger = Logger(label: "swiftmate.frontends"),
                report: @escaping @Sendable (String) async -> Void = { _ in }) {
        self.queueBytes = queueBytes
        self.logger = logger
        self.report = report
    }

    /// Adds `frontends`; each is attached with `injector` before its first event, and gets the events
    /// published from now on.
    public func start(_ frontends: [any Frontend], injector: any InputInjector) {
        let added = frontends.map { frontend in
            Member(frontend: frontend, queue: OutboundQueue(limitBytes: queueBytes) { event in
                if case .output(_, let bytes) = event { return bytes.count }
                return 64
            })
        }
        members.withLock { $0 += added }
        let started = added.map { member in Task { await Self.drive(member, injector: injector, hub: self) } }
        tasks.withLock { $0 += started }
    }

    /// Whether there is any frontend to feed (callers may skip building events when not).
    public var isEmpty: Bool { members.withLock { $0.isEmpty } }

    /// Names of frontends detached after an error, in order.
    public var detached: [String] { detachedNames.withLock { $0 } }

    /// Queues `event` for every frontend. Never blocks.
    public func publish(_ event: SessionEvent) {
        for member in members.withLock({ $0 }) {
            if case .overflowed(let dropped) = member.queue.push(event) {
                let text = "frontend '\(member.frontend.name)' fell behind; \(dropped) bytes of events were dropped"
                logger.warning("\(text)")
                member.queue.pushAlways(.marker("swiftmate: \(text)"))
            }
        }
    }

    /// Publishes the end, then waits until every frontend has handled what was queued
    /// (at most `timeout`; a frontend still busy after that is left to finish on its own).
    public func finish(exitStatus: Int32?, timeout: Duration = .seconds(10)) async {
        for member in members.withLock({ $0 }) {
            member.queue.pushAlways(.end(exitStatus: exitStatus))
            member.queue.close()
        }
        let running = tasks.withLock { $0 }
        guard !running.isEmpty else { return }
        // Task.value cannot be cancelled, so race the frontends against a timer and take the first.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = ResumeOnce(continuation)
            let timer = Task {
                try? await Task.sleep(for: timeout)
                once.resume()
            }
            Task {
                for task in running { await task.value }
                timer.cancel()
                once.resume()
            }
        }
    }

    private static func drive(_ member: Member, injector: any InputInjector, hub: FrontendHub) async {
        let name = member.frontend.name
        do {
            try await member.frontend.attach(injector: injector)
            // During bulk output events gather for a moment: a wake-up per 4 KiB PTY read costs more than
            // the frontend's own work (the same trade as the host's relay link).
            var pacing = BulkPacing(pause: .milliseconds(2))
            while let batch = await member.queue.popAll(pacing: &pacing) {
                if batch.isEmpty {
                    if Task.isCancelled { break }
                    continue
                }
                try await member.frontend.handle(batch: batch)
            }
        } catch {
            member.queue.close()
            hub.detachedNames.withLock { $0.append(name) }
            let text = "frontend '\(name)' failed and was detached: \(error)"
            hub.logger.error("\(text)")
            await hub.report(text)
        }
    }
}

/// An `InputInjector` that calls a closure (how the host hands frontends its PTY input).
public struct ClosureInjector: InputInjector {
    private let body: @Sendable ([UInt8]) async -> Void

    /// Injects by calling `body`.
    public init(_ body: @escaping @Sendable ([UInt8]) async -> Void) { self.body = body }

    /// Calls the closure.
    public func inject(_ bytes: [UInt8]) async { await body(bytes) }
}

/// A continuation that several racers may try to resume; the first wins.
private final class ResumeOnce: Sendable {
    private let continuation: Mutex<CheckedContinuation<Void, Never>?>
    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = Mutex(continuation) }
    func resume() { continuation.withLock { $0.take() }?.resume() }
}
