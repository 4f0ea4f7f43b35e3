// A status message from the network (a peer's address, a relay's notice) cannot carry terminal controls.
import Testing
import SwiftMateSystem

@Test func statusLinesShowControlCharactersAsQuestionMarks() {
    let drawn = String(decoding: LocalTerminal.statusLine("a mate has joined (\u{1b}]0;owned\u{07}\u{1b}[2J\u{9b}31m)", row: 24), as: UTF8.self)
    #expect(drawn == "\u{1b}7\u{1b}[24;1H\u{1b}[0;7m a mate has joined (?]0;owned??[2J?31m) \u{1b}[0m\u{1b}[K\u{1b}8")
}
