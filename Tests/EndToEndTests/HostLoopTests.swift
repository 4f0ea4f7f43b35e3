// The host's loop pieces on real descriptors: the PTY read on a loop, the host's terminal written without waiting.
import Foundation
import Glibc
import Synchronization
import Testing
import SwiftMateCore
@testable import SwiftMateSystem

/// Reads `pty` on `loop` until its output ends; `publish` sees each chunk and says whether to read on.
private func readAll(_ pty: PTYProcess, on loop: IOLoop,
                     publish: @escaping @Sendable ([UInt8], UInt64, PTYReader) -> Bool) async -> UInt64 {
    await withCheckedContinuation { (done: CheckedContinuation<UInt64, Never>) in
        loop.execute {
            let reader = PTYReader(pty: pty, loop: loop, seq: 7, publish: publish, onEnd: { done.resume(returning: $0) })
            reader.start()
        }
    }
}

@Test func aPTYReadOnTheLoopDeliversEveryByteInOrderAndTheEndOffset() async throws {
    let loop = try IOLoop(name: "test-pty")
    defer { loop.stop() }
    let pty = try PTYProcess(command: ["sh", "-c", "seq 1 30000"], environment: ProcessInfo.processInfo.environment, cols: 80, rows: 24)
    let got = Mutex<[UInt8]>([])
    let offsets = Mutex<[UInt64]>([])
    let end = await readAll(pty, on: loop) { chunk, seq, _ in
        #expect(loop.inLoop)
        offsets.withLock { $0.append(seq) }
        got.withLock { $0 += chunk }
        return true
    }
    #expect(pty.waitForExit() == 0)
    pty.closeMaster()
    let text = String(decoding: got.withLock { $0 }, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    #expect(text == (1...30000).map { "\($0)\n" }.joined())
    #expect(end == 7 + UInt64(got.withLock { $0.count }), "the end offset follows the last byte")
    #expect(offsets.withLock { $0.first } == 7)
}

@Test func aPausedPTYReaderReadsOnOnceResumedAndLosesNothing() async throws {
    let loop = try IOLoop(name: "test-pty-pause")
    defer { loop.stop() }
    let pty = try PTYProcess(command: ["sh", "-c", "seq 1 20000"], environment: ProcessInfo.processInfo.environment, cols: 80, rows: 24)
    let got = Mutex<[UInt8]>([])
    let pauses = Mutex(0)
    _ = await readAll(pty, on: loop) { chunk, _, reader in
        got.withLock { $0 += chunk }
        // Every third chunk the consumer is "behind": reading stops until it resumes the reader 20 ms later.
        let n = pauses.withLock { $0 += 1; return $0 }
        guard n % 3 == 0 else { return true }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(20)) { reader.resume() }
        return false
    }
    #expect(pty.waitForExit() == 0)
    pty.closeMaster()
    #expect(pauses.withLock { $0 } >= 3, "the output came in several chunks")
    let text = String(decoding: got.withLock { $0 }, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    #expect(text == (1...20000).map { "\($0)\n" }.joined())
}

@Test func aSlowTerminalGetsEverythingInOrderAndHoldsTheReaderBackPastItsLimit() async throws {
    let loop = try IOLoop(name: "test-terminal")
    defer { loop.stop() }
    var fds: [Int32] = [0, 0]
    #expect(pipe(&fds) == 0)
    _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
    let output = TerminalOutput(fd: fds[1], ownsFD: true, loop: loop, limitBytes: 256 << 10)
    // Two writers, as the loop and the SIGWINCH thread are: each chunk numbered, produced under the writer's lock.
    let tally = Tally()
    let chunk = 8 << 10
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<2 {
            group.addTask { [output, tally] in
                for _ in 0..<100 {
                    output.write {
                        let n = tally.counter.withLock { $0 += 1; return $0 }
                        return [UInt8](repeating: UInt8(n % 251), count: chunk)
                    }
                    if output.isBehind(onCaughtUp: { tally.caughtUp.withLock { $0 += 1 } }) { tally.behind.withLock { $0 = true } }
                }
            }
        }
    }
    #expect(tally.behind.withLock { $0 }, "1.6 MiB into a pipe nobody reads is past the 256 KiB limit")
    // Read slowly: the loop flushes as the pipe drains.
    var read: [UInt8] = []
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: 64 << 10, alignment: 16)
    defer { buffer.deallocate() }
    while read.count < 200 * chunk {
        let n = Glibc.read(fds[0], buffer, 64 << 10)
        guard n > 0 else { break }
        read += UnsafeRawBufferPointer(start: buffer, count: n)
    }
    close(fds[0])
    #expect(read.count == 200 * chunk)
    let expected = (1...200).flatMap { [UInt8](repeating: UInt8($0 % 251), count: chunk) }
    #expect(read == expected, "every chunk once, in the order the writers produced them")
    #expect(tally.caughtUp.withLock { $0 } >= 1, "the reader was told the terminal caught up")
}

/// What the terminal test's writers count.
private final class Tally: Sendable {
    let counter = Mutex(0)
    let caughtUp = Mutex(0)
    let behind = Mutex(false)
}
