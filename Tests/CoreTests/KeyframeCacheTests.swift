// The relay's keyframe cache: what late joiners and overflowed viewers are sent, and when the host is asked.
import Testing
@testable import SwiftMateCore

@Suite struct KeyframeCacheTests {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func theStreamFromItsStartIsReplayedAfterAReset() {
        var cache = KeyframeCache(requestBytes: 100)
        do { let r = cache.output(seq: 0, bytes: bytes("hello\r\n")); #expect(r == .none) }
        let c = cache.catchUp(cols: 80, rows: 24)
        #expect(c.repaint?.bytes == bytes("\u{1b}c") && c.seq == 0 && c.bytes == bytes("hello\r\n"))
    }

    @Test func pastTheBoundTheHostIsAskedOnceAndItsKeyframeReplacesWhatCameBefore() {
        var cache = KeyframeCache(requestBytes: 10)
        do { let r = cache.output(seq: 0, bytes: bytes("0123456789")); #expect(r == .none) }
        do { let r = cache.output(seq: 10, bytes: bytes("abc")); #expect(r == .requestKeyframe) }
        do { let r = cache.output(seq: 13, bytes: bytes("def")); #expect(r == .none) } // already asked
        // The host's model had seen up to 12 when it drew the keyframe.
        do { let r = cache.received(Keyframe(seq: 12, cols: 80, rows: 24, bytes: bytes("K"))); #expect(r.taken) }
        do { let r = cache.output(seq: 16, bytes: bytes("g")); #expect(r == .none) }
        let c = cache.catchUp(cols: 80, rows: 24)
        #expect(c.repaint?.bytes == bytes("K"))
        #expect(c.seq == 12 && c.bytes == bytes("cdefg")) // nothing lost, nothing repeated
    }

    @Test func aKeyframeOlderThanWhatIsKeptIsAskedForAgainAtOnce() {
        var cache = KeyframeCache(requestBytes: 4)
        _ = cache.output(seq: 0, bytes: bytes("line 1\nline 2\nline 3\n"))
        let old = cache.received(Keyframe(seq: 2, cols: 80, rows: 24, bytes: []))
        #expect(!old.taken && old.action == .requestKeyframe)
        let future = cache.received(Keyframe(seq: 100, cols: 80, rows: 24, bytes: []))
        #expect(!future.taken && future.action == .none)
        let current = cache.received(Keyframe(seq: 21, cols: 80, rows: 24, bytes: bytes("K")))
        #expect(current.taken)
        #expect(cache.catchUp(cols: 80, rows: 24) == .init(repaint: Keyframe(seq: 21, cols: 80, rows: 24, bytes: bytes("K")), seq: 21, bytes: []))
    }

    @Test func aJumpInTheHostsStreamDropsTheKeyframe() {
        var cache = KeyframeCache(requestBytes: 4)
        _ = cache.output(seq: 0, bytes: bytes("abcdef"))
        _ = cache.received(Keyframe(seq: 6, cols: 80, rows: 24, bytes: bytes("K")))
        _ = cache.output(seq: 50, bytes: bytes("z"))
        let c = cache.catchUp(cols: 80, rows: 24)
        #expect(c.repaint?.bytes == bytes("\u{1b}c") && c.seq == 50 && c.bytes == bytes("z"))
    }

    @Test func withoutAnswersOnlyTheLastLinesAreKept() {
        var cache = KeyframeCache(requestBytes: 16)
        var seq: UInt64 = 0
        for i in 0..<100 {
            let line = bytes("line \(i)\r\n")
            _ = cache.output(seq: seq, bytes: line)
            seq += UInt64(line.count)
        }
        let c = cache.catchUp(cols: 80, rows: 24)
        #expect(c.bytes.count <= 32 && String(decoding: c.bytes, as: UTF8.self).hasPrefix("line "))
        #expect(c.seq + UInt64(c.bytes.count) == seq)
    }

    @Test func aResizeAsksForAKeyframeOfTheNewSize() {
        var cache = KeyframeCache(requestBytes: 100)
        do { let r = cache.resized(); #expect(r == .requestKeyframe) }
        do { let r = cache.resized(); #expect(r == .none) }
    }
}
