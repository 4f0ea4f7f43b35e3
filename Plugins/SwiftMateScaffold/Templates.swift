// The source templates of `swiftmate-scaffold`: each builds as generated and passes SwiftMate's contract suite.

enum Templates {
    static func frontend(module: String, yaml: String, register: String) -> String {
        #"""
        // The `\#(yaml)` frontend: writes one line per session event to a log file. Scaffolded by swiftmate-scaffold:
        // replace the body of `handle` with what your frontend does; keep the registration and the contract test.
        import Foundation
        import SwiftMateCore
        import Synchronization

        /// The `\#(yaml)` frontend. YAML: `host.frontends: [{\#(yaml): {path: /tmp/\#(yaml).log}}]`.
        public final class \#(module): Frontend {
            /// Its options, from its YAML section.
            public struct Options: Sendable {
                /// Where the event log is written.
                public var path: String

                /// Reads `{path}`; errors name the key path and what to do.
                public init(_ node: ConfigNode) throws {
                    try node.checkKeys(["path"])
                    guard let path = node["path"] else { throw node.error("\#(yaml) needs 'path': where to write its log") }
                    self.path = try path.string()
                }
            }

            private let log: Mutex<FileHandle>

            /// Creates (or truncates) the log file.
            public init(options: Options) throws {
                guard FileManager.default.createFile(atPath: options.path, contents: nil),
                      let handle = FileHandle(forWritingAtPath: options.path) else {
                    throw SwiftMateError(.system, "cannot create \(options.path); check the directory exists and is writable")
                }
                log = Mutex(handle)
            }

            /// `\#(yaml)`.
            public var name: String { "\#(yaml)" }

            /// Nothing to keep: this frontend does not type into the session.
            public func attach(injector: any InputInjector) async throws {}

            /// One line per event.
            public func handle(_ event: SessionEvent) async throws {
                let line: String
                switch event {
                case .start(let info): line = "start \(info.sessionID) \(info.cols)x\(info.rows) \(info.command.joined(separator: " "))"
                case .output(let seq, let bytes): line = "output at \(seq): \(bytes.count) bytes"
                case .input(let viewer, let bytes): line = "input from viewer \(viewer): \(bytes.count) bytes"
                case .resize(let cols, let rows): line = "resize \(cols)x\(rows)"
                case .viewerJoined(let viewer, let readOnly, let peer): line = "viewer \(viewer) joined from \(peer)\(readOnly ? " (read-only)" : "")"
                case .viewerLeft(let viewer, let reason): line = "viewer \(viewer) left: \(reason)"
                case .marker(let label): line = "marker \(label)"
                case .end(let status): line = "end \(status.map(String.init) ?? "-")"
                }
                try log.withLock { try $0.write(contentsOf: Data((line + "\n").utf8)) }
            }
        }

        extension PluginRegistry {
            /// Registers the `\#(yaml)` frontend so YAML can choose it.
            public mutating func \#(register)() {
                register(frontend: "\#(yaml)", check: { _ = try \#(module).Options($0) }) { options, _ in
                    try \#(module)(options: \#(module).Options(options))
                }
            }
        }

        """#
    }

    static func codec(module: String, yaml: String, register: String) -> String {
        #"""
        // The `\#(yaml)` codec: run-length encoding of each frame. Scaffolded by swiftmate-scaffold: replace the two
        // functions at the bottom with your algorithm; keep the limit check before any allocation.
        import SwiftMateCore

        /// The `\#(yaml)` codec. YAML: `host.codecs: [\#(yaml), none]` and `relay.codecs: [\#(yaml), none]`.
        public struct \#(module): Codec {
            /// Makes the codec.
            public init() {}

            /// `\#(yaml)`.
            public var name: String { "\#(yaml)" }

            /// A compressor for one direction of a new connection.
            public func makeCompressor() throws -> any FrameCompressor { Compressor() }

            /// A decompressor that refuses frames decoding past `limit` bytes.
            public func makeDecompressor(limit: Int) throws -> any FrameDecompressor { Decompressor(limit: limit) }

            private final class Compressor: FrameCompressor {
                func compress(_ frame: [UInt8]) throws -> [UInt8] { \#(module).encode(frame) }
            }

            private final class Decompressor: FrameDecompressor {
                let limit: Int
                init(limit: Int) { self.limit = limit }
                func decompress(_ data: [UInt8]) throws -> [UInt8] { try \#(module).decode(data, limit: limit) }
            }

            /// Pairs of (run length 1–255, byte).
            static func encode(_ frame: [UInt8]) -> [UInt8] {
                var out: [UInt8] = []
                out.reserveCapacity(frame.count / 2 + 2)
                var i = 0
                while i < frame.count {
                    var run = 1
                    while i + run < frame.count && run < 255 && frame[i + run] == frame[i] { run += 1 }
                    out.append(UInt8(run))
                    out.append(frame[i])
                    i += run
                }
                return out
            }

            /// The inverse of `encode`; corrupt input and output past `limit` are errors, checked before allocating.
            static func decode(_ data: [UInt8], limit: Int) throws -> [UInt8] {
                guard data.count % 2 == 0 else { throw SwiftMateError(.codecFailure, "\#(yaml): truncated frame (\(data.count) bytes)") }
                var total = 0
                for index in stride(from: 0, to: data.count, by: 2) {
                    guard data[index] > 0 else { throw SwiftMateError(.codecFailure, "\#(yaml): zero-length run at byte \(index)") }
                    total += Int(data[index])
                }
                guard total <= limit else {
                    throw SwiftMateError(.codecFailure, "\#(yaml): frame decodes to \(total) bytes, over the limit of \(limit)")
                }
                var out: [UInt8] = []
                out.reserveCapacity(total)
                for index in stride(from: 0, to: data.count, by: 2) {
                    out.append(contentsOf: repeatElement(data[index + 1], count: Int(data[index])))
                }
                return out
            }
        }

        extension PluginRegistry {
            /// Registers the `\#(yaml)` codec so YAML can offer it.
            public mutating func \#(register)() {
                register(codec: "\#(yaml)") { _ in \#(module)() }
            }
        }

        """#
    }

    static func transport(module: String, yaml: String, register: String) -> String {
        #"""
        // The `\#(yaml)` transport: links within one process (a relay and hosts embedded in one program). Scaffolded
        // by swiftmate-scaffold: replace `LocalLink.pair` with your own link (a socket, a pipe, a tunnel).
        import SwiftMateCore
        import Synchronization

        /// The `\#(yaml)` transport. URLs: `\#(yaml)://NAME:PORT` (port 0 when listening picks a free one).
        public struct \#(module): Transport {
            /// Makes the transport.
            public init() {}

            /// `\#(yaml)`.
            public var name: String { "\#(yaml)" }

            /// Connects to a listener of this process.
            public func connect(to endpoint: Endpoint) async throws -> Connection {
                guard let listener = Self.listeners.withLock({ $0.table[endpoint.port] }) else {
                    throw SwiftMateError(.connectionLost, "nothing listens on \(endpoint); start the relay first")
                }
                return try listener.accept()
            }

            /// Listens on `endpoint.port` (0: the next free number).
            public func listen(on endpoint: Endpoint) async throws -> any Listener {
                try Self.listeners.withLock { state in
                    var port = endpoint.port
                    if port == 0 {
                        state.next += 1
                        port = state.next
                    }
                    let chosen = port
                    guard state.table[chosen] == nil else { throw SwiftMateError(.system, "\(endpoint) is already in use") }
                    let listener = InProcessListener(endpoint: Endpoint(scheme: name, host: endpoint.host, port: chosen)) {
                        _ = Self.listeners.withLock { $0.table.removeValue(forKey: chosen) }
                    }
                    state.table[chosen] = listener
                    return listener
                }
            }

            private static let listeners = Mutex<(table: [Int: InProcessListener], next: Int)>(([:], 40000))
        }

        /// A listener whose connections are made in this process.
        final class InProcessListener: Listener {
            let localEndpoint: Endpoint
            private let accepted: AsyncStream<Connection>
            private let feed: AsyncStream<Connection>.Continuation
            private let onClose: @Sendable () -> Void

            init(endpoint: Endpoint, onClose: @escaping @Sendable () -> Void) {
                localEndpoint = endpoint
                self.onClose = onClose
                (accepted, feed) = AsyncStream.makeStream(of: Connection.self)
            }

            /// A new pair: one end for the caller, the other handed to `run`'s handler.
            func accept() throws -> Connection {
                let (client, server) = LocalLink.pair(peerA: "\#(yaml) client", peerB: localEndpoint.description)
                guard case .enqueued = feed.yield(server) else { throw SwiftMateError(.connectionLost, "\(localEndpoint) is closed") }
                return client
            }

            func run(handler: @escaping @Sendable (Connection) async -> Void) async throws {
                await withDiscardingTaskGroup { group in
                    for await connection in accepted {
                        group.addTask { await handler(connection) }
                    }
                }
            }

            func close() async {
                onClose()
                feed.finish()
            }
        }

        extension PluginRegistry {
            /// Registers the `\#(yaml)` transport so YAML URLs can use `\#(yaml)://`.
            public mutating func \#(register)() {
                register(transport: "\#(yaml)") { _ in \#(module)() }
            }
        }

        """#
    }

    static func test(kind: PluginKind, module: String, yaml: String, register: String) -> String {
        let contract: String
        switch kind {
        case .frontend:
            contract = #"""
                @Test func passesTheFrontendContract() async throws {
                    let path = FileManager.default.temporaryDirectory.appendingPathComponent("\#(yaml)-\(UUID().uuidString).log").path
                    defer { try? FileManager.default.removeItem(atPath: path) }
                    let frontend = try \#(module)(options: .init(ConfigNode.parse(yaml: "{path: '\(path)'}", file: "test.yaml")))
                    try await FrontendContract.check(frontend)
                }

                @Test func isChosenByNameFromYAML() throws {
                    var registry = PluginRegistry()
                    registry.\#(register)()
                    let config = try SwiftMateConfig.parse(yaml: "host:\n  frontends: [{\#(yaml): {path: /tmp/\#(yaml).log}}]\n", file: "test.yaml", registry: registry)
                    #expect(config.frontends.map(\.name) == ["\#(yaml)"])
                    #expect(throws: SwiftMateError.self) { try registry.requireFrontend("\#(yaml)", options: ConfigNode.parse(yaml: "{}", file: "test.yaml")) }
                }
            """#
        case .codec:
            contract = #"""
                @Test func passesTheCodecContract() throws {
                    let sample = (0..<200_000).map { i in UInt8(truncatingIfNeeded: i % 7 == 0 ? i : 0x20) }
                    try CodecContract.check(\#(module)(), sample: sample)
                }

                @Test func isChosenByNameFromYAML() throws {
                    var registry = PluginRegistry()
                    registry.\#(register)()
                    let config = try SwiftMateConfig.parse(yaml: "host:\n  codecs: [\#(yaml), none]\n", file: "test.yaml", registry: registry)
                    #expect(config.hostCodecs == ["\#(yaml)", "none"])
                }
            """#
        case .transport:
            contract = #"""
                @Test func passesTheTransportContract() async throws {
                    try await TransportContract.check(\#(module)(), endpoint: Endpoint(scheme: "\#(yaml)", host: "local", port: 0))
                }

                @Test func isChosenByNameFromYAML() throws {
                    var registry = PluginRegistry()
                    registry.\#(register)()
                    let config = try SwiftMateConfig.parse(yaml: "relay:\n  listen: [\"\#(yaml)://local:7\"]\n", file: "test.yaml", registry: registry)
                    #expect(config.relayListen.map(\.scheme) == ["\#(yaml)"])
                }
            """#
        }
        return #"""
        // The `\#(yaml)` \#(kind.rawValue) passes SwiftMate's \#(kind.rawValue) contract, and YAML can choose it by name.
        import Foundation
        import SwiftMateCore
        import SwiftMateTestSupport
        import Testing
        import \#(module)

        @Suite struct \#(module)ContractTests {
        \#(contract)
        }

        """#
    }
}
