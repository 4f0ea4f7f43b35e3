// `swiftmate play FILE`: replay an asciicast v2/v3 recording with its timing; keys pause, step and quit.
import ArgumentParser
import Foundation
import Glibc
import SwiftMateCore
import SwiftMateRecorder
import SwiftMateSystem
import Synchronization

struct PlayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "play",
        abstract: "Replay a recording (asciicast v2 or v3, ours or asciinema's) on this terminal.",
        discussion: "Keys while playing: space pauses and resumes, '.' shows the next event while paused, q or Ctrl-C quits.")

    @Argument(help: "The recording (.cast).")
    var file: String

    @Option(name: [.short, .long], help: "Playback speed: 2 is twice as fast.")
    var speed: Double = 1

    @Option(name: [.customShort("i"), .long], help: "Longest pause between events, in seconds (default: the file's idle_time_limit, else none).")
    var idleTimeLimit: Double?

    @Flag(name: [.short, .long], help: "Play again and again until q.")
    var loop = false

    @Flag(name: [.customShort("m"), .long], help: "Pause at each marker.")
    var pauseOnMarkers = false

    func validate() throws {
        guard speed > 0, speed.isFinite else { throw ValidationError("--speed must be a number above 0, e.g. 2 or 0.5") }
        if let limit = idleTimeLimit, !(limit > 0) { throw ValidationError("--idle-time-limit must be above 0 seconds") }
    }

    func run() async throws {
        let control = PlaybackControl()
        let interactive = isatty(0) == 1
        if interactive {
            LocalTerminal.enterRawMode()
            control.startReadingKeys()
        }
        defer { if interactive { LocalTerminal.restore() } }
        repeat {
            let reader = try AsciicastReader(path: file)
            var timing = PlaybackTiming(speed: speed, idleTimeLimit: idleTimeLimit ?? reader.header.idleTimeLimit)
            do {
                if try await play(reader, timing: &timing, control: control) == .quit { return }
            } catch let error as SwiftMateError {
                if interactive { LocalTerminal.restore() }
                FileHandle.standardError.write(Data("\r\nswiftmate play: \(error.message)\n".utf8))
                throw ExitCode(1)
            }
        } while loop
    }

    private enum Outcome { case finished, quit }

    private func play(_ reader: AsciicastReader, timing: inout PlaybackTiming, control: PlaybackControl) async throws -> Outcome {
        var deadline = ContinuousClock.now
        while let event = try reader.next() {
            deadline += .nanoseconds(Int64(timing.wait(before: event.time) * 1e9))
            waiting: while true {
                switch control.state() {
                case .quit: return .quit
                case .paused(let step):
                    if step { deadline = .now; break waiting }
                    try? await Task.sleep(for: .milliseconds(20))
                    deadline += .milliseconds(20)
                case .playing:
                    let now = ContinuousClock.now
                    if now >= deadline { break waiting }
                    try? await Task.sleep(for: min(deadline - now, .milliseconds(50)))
                }
            }
            switch event.code {
            case "o":
                _ = FileDescriptorIO.writeAll(1, Array(event.data.utf8))
            case "m" where pauseOnMarkers:
                control.pause()
            default:
                break
            }
        }
        return .finished
    }
}

/// What the keys have asked for; the key thread writes it, the player reads it.
final class PlaybackControl: Sendable {
    enum State { case playing, paused(step: Bool), quit }
    private struct Flags { var paused = false, steps = 0, quit = false }
    private let flags = Mutex(Flags())

    /// Reads keys from standard input on a thread of its own.
    func startReadingKeys() {
        let thread = Thread { [self] in
            while let keys = FileDescriptorIO.read(0) {
                for key in keys { handle(key) }
                if flags.withLock({ $0.quit }) { return }
            }
        }
        thread.name = "swiftmate-play-keys"
        thread.start()
    }

    private func handle(_ key: UInt8) {
        flags.withLock { f in
            switch key {
            case 0x20: f.paused.toggle()                          // space
            case 0x2E where f.paused: f.steps += 1                // '.'
            case 0x71, 0x03, 0x04: f.quit = true                  // q, Ctrl-C, Ctrl-D
            default: break
            }
        }
    }

    func pause() { flags.withLock { $0.paused = true } }

    /// The current state; a pending step is consumed by reading it.
    func state() -> State {
        flags.withLock { f in
            if f.quit { return .quit }
            guard f.paused else { return .playing }
            if f.steps > 0 {
                f.steps -= 1
                return .paused(step: true)
            }
            return .paused(step: false)
        }
    }
}
