// Helpers for the core tests.
import SwiftMateCore
import SwiftMateTestSupport

enum InMemoryPair {
    static func make() -> (Connection, Connection) { InMemoryLink.pair() }
}
