// The asciicast writer, reader and recorder frontend: exact bytes, v3 timing, bad files named by line.
import Foundation
import Testing
import SwiftMateCore
import SwiftMateRecorder
import SwiftMateTestSupport

private func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftmate-rec-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

private func write(_ text: String, to name: String) -> String {
    let path = temporaryPath(name)
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    return path
}

@Test func splitCharactersAreCarriedAndInvalidBytesBecomeReplacementCharacters() throws {
    var encoder = JSONTextEncoder()
    let text = Array("a\"\\\n\r\t\u{1b}[1m漢🙂é\u{7f}".utf8)
    var joined = ""
    // Every split point, including inside multi-byte characters.
    for cut in 0...text.count {
        var out: [UInt8] = []
        encoder.appendLiteral(Array(text[..<cut]), to: &out)
        encoder.appendLiteral(Array(text[cut...]), to: &out)
        let literals = String(decoding: out, as: UTF8.self).replacingOccurrences(of: "\"\"", with: "")
        let decoded = try JSONSerialization.jsonObject(with: Data(("[" + literals.replacingOccurrences(of: "\"\"", with: "\",\"") + "]").utf8)) as! [String]
        joined = decoded.joined()
        #expect(Array(joined.utf8) == text, "cut at \(cut)")
    }
    var out: [UInt8] = []
    encoder.appendLiteral([0x41, 0xff, 0xc3, 0x28, 0xe2, 0x82], to: &out)
    let flushed = encoder.flushLiteral(to: &out)
    #expect(flushed)
    #expect(String(decoding: out, as: UTF8.self) == "\"A\u{FFFD}\u{FFFD}(\"\"\u{FFFD}\"")
}

@Test func v2LinesAreWhatAsciinemaWrites() throws {
    var writer = AsciicastWriter(format: .v2)
    let header = String(decoding: writer.headerLine(AsciicastHeader(cols: 100, rows: 30, timestamp: 1700000000, command: "bash -l",
                                                                     title: "t", term: "xterm-256color", environment: ["SHELL": "/bin/bash"])), as: UTF8.self)
    let object = try JSONSerialization.jsonObject(with: Data(header.utf8)) as! [String: Any]
    #expect(object["version"] as? Int == 2 && object["width"] as? Int == 100 && object["height"] as? Int == 30)
    #expect((object["env"] as? [String: String]) == ["SHELL": "/bin/bash", "TERM": "xterm-256color"])
    #expect(String(decoding: writer.output(Array("hi\r\n".utf8), at: 1.5), as: UTF8.self) == "[1.500000, \"o\", \"hi\\r\\n\"]\n")
    #expect(String(decoding: writer.resize(cols: 80, rows: 24, at: 2.0000004), as: UTF8.self) == "[2.000000, \"r\", \"80x24\"]\n")
    #expect(writer.end(exitStatus: 0, at: 3).isEmpty)
}

@Test func aV3RecordingRoundTripsWithItsTiming() throws {
    var writer = AsciicastWriter(format: .v3)
    var file = writer.headerLine(AsciicastHeader(cols: 90, rows: 20, timestamp: 1, term: "xterm", environment: ["SHELL": "/bin/sh"]))
    let expected: [AsciicastEvent] = [
        .init(time: 0.25, code: "o", data: "$ "), .init(time: 0.75, code: "i", data: "l"),
        .init(time: 1.000001, code: "o", data: "ls\r\n"), .init(time: 2.5, code: "r", data: "120x40"),
        .init(time: 2.5, code: "m", data: "here"), .init(time: 10.125, code: "o", data: "漢字"),
        .init(time: 11, code: "x", data: "3"),
    ]
    for e in expected.dropLast() {
        switch e.code {
        case "o": file += writer.output(Array(e.data.utf8), at: e.time)
        case "i": file += writer.input(Array(e.data.utf8), at: e.time)
        case "r": file += writer.resize(cols: 120, rows: 40, at: e.time)
        default: file += writer.marker(e.data, at: e.time)
        }
    }
    file += writer.end(exitStatus: 3, at: 11)
    let text = String(decoding: file, as: UTF8.self)
    #expect(text.contains("[0.250000, \"o\", \"$ \"]\n[0.500000, \"i\""), "v3 times are intervals")
    let reader = try AsciicastReader(path: write(text, to: "v3.cast"))
    #expect(reader.version == 3)
    #expect(reader.header.cols == 90 && reader.header.rows == 20 && reader.header.term == "xterm")
    #expect(try reader.readAll() == expected)
}

@Test(arguments: [
    ("", "empty"),
    ("{\"version\": 1, \"width\": 80, \"height\": 24, \"stdout\": []}\n", "v1 is not supported"),
    ("{\"version\": 5, \"width\": 80, \"height\": 24}\n", "version 5 is not supported"),
    ("{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.1, \"o\", \"a\"]\n[0.2, \"o\"]\n", ":3: an event is"),
    ("{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.1, \"o\", \"a\"]\nnot json\n", ":3: not valid JSON"),
    ("{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.1, \"o\", \"a\"]\n[0.2, \"o\", \"b", ":3: the recording ends in the middle of a line"),
    ("{\"version\": 2, \"width\": 0, \"height\": 24}\n", "not a terminal size"),
    ("{\"version\": 2, \"width\": 80, \"height\": 24}\n[-1, \"o\", \"a\"]\n", ":2: the event time"),
])
func badFilesAreNamedByLine(text: String, expected: String) throws {
    let path = write(text, to: "bad.cast")
    do {
        let reader = try AsciicastReader(path: path)
        _ = try reader.readAll()
        Issue.record("no error for \(text.debugDescription)")
    } catch let error as SwiftMateError {
        #expect(error.code == .badRecording)
        #expect(error.message.contains(expected), "\(error.message)")
    }
}

@Test func anOverlongLineIsRefusedWithoutReadingItWhole() throws {
    let path = temporaryPath("long.cast")
    var text = "{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.1, \"o\", \""
    text += String(repeating: "x", count: 3 << 20)
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    let reader = try AsciicastReader(path: path, maxLineBytes: 1 << 20)
    #expect(throws: SwiftMateError.self) { _ = try reader.readAll() }
}

@Test func theRecorderPassesTheFrontendContractAndWritesAPlayableFile() async throws {
    let path = temporaryPath("contract.cast")
    var options = AsciicastRecorder.Options(path: path)
    options.recordInput = true
    let recorder = try AsciicastRecorder(options: options, context: FrontendContext(side: "relay", sessionID: "s1"))
    try await FrontendContract.check(recorder)
    let reader = try AsciicastReader(path: path)
    let events = try reader.readAll()
    #expect(reader.header.cols == 80 && reader.header.term == "xterm-256color")
    #expect(events.contains { $0.code == "r" && $0.data == "300x100" })
    #expect(events.contains { $0.code == "i" && $0.data == "ls\r" })
    #expect(events.contains { $0.code == "m" && $0.data.contains("input from viewer 1 (127.0.0.1:1)") })
    let output = events.filter { $0.code == "o" }.map(\.data).joined()
    #expect(output.hasPrefix("plain text\r\n\u{1b}[1;31mred"))
    #expect(output.contains("wide: 漢字 and emoji 🙂"))
    #expect(output.utf8.count > 1 << 20)
    // The file exists now: a second recorder refuses to overwrite it.
    #expect(throws: SwiftMateError.self) { _ = try AsciicastRecorder(options: options, context: FrontendContext(side: "host", sessionID: "s1")) }
}

@Test func inputIsLeftOutUnlessAskedFor() async throws {
    let path = temporaryPath("noinput.cast")
    let recorder = try AsciicastRecorder(options: .init(path: path), context: FrontendContext(side: "host", sessionID: "s"))
    try await FrontendContract.check(recorder)
    #expect(try AsciicastReader(path: path).readAll().allSatisfy { $0.code != "i" })
}

@Test func pathTemplatesAreFilledIn() {
    let date = Date(timeIntervalSince1970: 1_795_000_000)
    let path = AsciicastRecorder.expand("/r/{session}-{date}.cast", session: "abc", now: date)
    #expect(path == "/r/abc-20261118-110640.cast")
    #expect(AsciicastRecorder.expand("~/x.cast", session: "").hasSuffix("/x.cast"))
    #expect(!AsciicastRecorder.expand("~/x.cast", session: "").hasPrefix("~"))
}

@Test func playbackWaitsFollowSpeedAndIdleLimit() {
    var timing = PlaybackTiming(speed: 2, idleTimeLimit: 1.5)
    #expect(timing.wait(before: 0.5) == 0.25)
    #expect(timing.wait(before: 10.5) == 0.75, "a 10 s pause is cut to the 1.5 s limit, then halved")
    #expect(timing.wait(before: 10.0) == 0, "a step back in time is no wait")
    #expect(timing.wait(before: 11.0) == 0.25)
    var plain = PlaybackTiming()
    #expect(plain.wait(before: 30) == 30)
    #expect(PlaybackTiming(speed: 0).speed == 1 && PlaybackTiming(speed: .infinity).speed == 1)
}

@Test func aSessionResumedAfterARelayRestartRecordsItsNextPartBesideTheFirst() async throws {
    let directory = temporaryPath("parts")
    let options = AsciicastRecorder.Options(path: directory + "/{session}.cast")
    let first = try AsciicastRecorder(options: options, context: FrontendContext(side: "relay", sessionID: "s9"))
    try await FrontendContract.check(first)
    let before = try Data(contentsOf: URL(fileURLWithPath: first.path))
    // The same session again (its host resumed it on a restarted relay): a second file, the first left whole.
    let second = try AsciicastRecorder(options: options, context: FrontendContext(side: "relay", sessionID: "s9"))
    #expect(first.path == directory + "/s9.cast" && second.path == directory + "/s9-part2.cast")
    #expect(try Data(contentsOf: URL(fileURLWithPath: first.path)) == before)
    let third = try AsciicastRecorder(options: options, context: FrontendContext(side: "relay", sessionID: "s9"))
    #expect(third.path == directory + "/s9-part3.cast")
    #expect(AsciicastRecorder.part(2, of: "/a.b/name") == "/a.b/name-part2")
    #expect(AsciicastRecorder.part(2, of: "/a/.hidden") == "/a/.hidden-part2")
    #expect(AsciicastRecorder.part(4, of: "x.tar.cast") == "x.tar-part4.cast")
}
