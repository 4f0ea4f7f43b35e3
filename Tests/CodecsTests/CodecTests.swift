// Codecs: streaming round trips on real terminal output from a PTY, bombs and corrupt input rejected.
import Foundation
import Testing
import SwiftMateCodecs
import SwiftMateCore
import SwiftMateSystem
import SwiftMateTestSupport

/// Real terminal output: `ls -lR --color=always /usr` through a PTY (about 2 MB is plenty).
let terminalSample: [UInt8] = {
    guard let pty = try? PTYProcess(command: ["sh", "-c", "ls -lR --color=always /usr 2>/dev/null | head -c 2000000"],
                                    environment: ["PATH": "/usr/bin:/bin", "TERM": "xterm-256color"], cols: 120, rows: 40) else { return [] }
    var out: [UInt8] = []
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 8)
    defer { buffer.deallocate() }
    while true {
        let n = pty.read(into: buffer)
        if n <= 0 { break }
        out += UnsafeRawBufferPointer(rebasing: buffer[0..<n])
    }
    _ = pty.waitForExit()
    pty.closeMaster()
    return out
}()

@Test(arguments: [ZlibCodec(level: 1), ZlibCodec(), LZ4Codec()] as [any Codec])
func codecPassesTheContractOnRealTerminalOutput(codec: any Codec) throws {
    #expect(terminalSample.count > 500_000)
    #expect(terminalSample.contains(0x1b), "the sample has colour escapes")
    try CodecContract.check(codec, sample: terminalSample)
}

@Test(arguments: [ZlibCodec(), LZ4Codec()] as [any Codec])
func streamingBeatsIndependentFrames(codec: any Codec) throws {
    // The dictionary carries over: the second copy of a frame costs far less than the first.
    let c = try codec.makeCompressor()
    let frame = Array(terminalSample.prefix(8000))
    let first = try c.compress(frame).count
    let second = try c.compress(frame).count
    #expect(second * 4 < first, "\(codec.name): \(first) then \(second)")
}

@Test func zlibBombIsRefusedNotInflated() throws {
    let bomb = try ZlibCodec(level: 9).makeCompressor().compress([UInt8](repeating: 0, count: 50 << 20))
    #expect(bomb.count < 100_000)
    let d = try ZlibCodec().makeDecompressor(limit: 1 << 20)
    #expect(throws: SwiftMateError.self) { try d.decompress(bomb) }
}

@Test func lz4SizeClaimsPastTheLimitAreRefused() throws {
    let d = try LZ4Codec().makeDecompressor(limit: 1 << 20)
    #expect(throws: SwiftMateError.self) { try d.decompress([0x7f, 0xff, 0xff, 0xff, 0x00]) }
    // A header that lies about the size (smaller than the real output) is corrupt, not an overflow.
    let packed = try LZ4Codec().makeCompressor().compress([UInt8](repeating: 7, count: 5000))
    var lying = packed
    lying[2] = 0; lying[3] = 10
    #expect(throws: SwiftMateError.self) { try LZ4Codec().makeDecompressor(limit: 1 << 20).decompress(lying) }
}

@Test func corruptStreamsAreErrors() throws {
    for codec in [ZlibCodec(), LZ4Codec()] as [any Codec] {
        var packed = try codec.makeCompressor().compress(Array(terminalSample.prefix(30000)))
        for i in stride(from: 6, to: packed.count, by: 7) { packed[i] ^= 0x5a }
        let d = try codec.makeDecompressor(limit: 1 << 20)
        do {
            let out = try d.decompress(packed)
            #expect(out != Array(terminalSample.prefix(30000)), "\(codec.name) accepted corrupt data unchanged")
        } catch is SwiftMateError {}
    }
}

@Test func builtinCodecsRegisterAndReadTheirOptions() {
    var registry = PluginRegistry()
    registry.registerBuiltinCodecs()
    #expect(registry.codecNames == ["lz4", "none", "zlib"])
    #expect(throws: SwiftMateError.self) {
        try SwiftMateConfig.parse(yaml: "codecs: {zlib: {level: 10}}", file: "c.yaml", registry: registry)
    }
    #expect(throws: SwiftMateError.self) {
        try SwiftMateConfig.parse(yaml: "codecs: {lz4: {speed: 2}}", file: "c.yaml", registry: registry)
    }
}
