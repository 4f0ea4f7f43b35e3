// Terminal bytes → JSON string text for asciicast events: UTF-8 checked, split sequences carried over.

/// Turns a stream of terminal output chunks into JSON string literals.
///
/// asciicast stores output as JSON strings, so the bytes must be UTF-8. A multi-byte character split
/// across two PTY reads is carried over to the next chunk (so a recording reproduces the bytes
/// exactly); bytes that are not UTF-8 at all become U+FFFD, as `asciinema rec` does.
public struct JSONTextEncoder: Sendable {
    private var carry: [UInt8] = []

    /// A fresh encoder with nothing carried.
    public init() {}

    /// Appends `"…"` for `bytes` (plus what was carried) to `out`, keeping an unfinished trailing
    /// character for the next call. Returns false when there was nothing to write.
    @discardableResult
    public mutating func appendLiteral(_ bytes: [UInt8], to out: inout [UInt8]) -> Bool {
        let input = carry.isEmpty ? bytes : carry + bytes
        carry = []
        guard !input.isEmpty else { return false }
        let start = out.count
        out.append(0x22)
        let consumed = input.withUnsafeBufferPointer { Self.escape($0, to: &out, final: false) }
        if consumed < input.count { carry = Array(input[consumed...]) }
        if out.count == start + 1 {
            out.removeLast()
            return false
        }
        out.append(0x22)
        return true
    }

    /// Appends whatever is still carried (an unfinished character at the end of the stream) as
    /// U+FFFD literals; returns false when nothing was carried.
    public mutating func flushLiteral(to out: inout [UInt8]) -> Bool {
        guard !carry.isEmpty else { return false }
        out.append(0x22)
        _ = carry.withUnsafeBufferPointer { Self.escape($0, to: &out, final: true) }
        out.append(0x22)
        carry = []
        return true
    }

    /// A complete JSON string literal for `text`.
    public static func literal(_ text: String) -> [UInt8] {
        var out: [UInt8] = [0x22]
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBufferPointer { escape($0, to: &out, final: true) }
        out.append(0x22)
        return out
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)
    private static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    /// Escapes `input` into `out`; returns how many bytes were used (less than all only when
    /// `final` is false and the input ends inside a character).
    static func escape(_ input: UnsafeBufferPointer<UInt8>, to out: inout [UInt8], final: Bool) -> Int {
        out.reserveCapacity(out.count + input.count + input.count / 8 + 8)
        var i = 0
        let n = input.count
        while i < n {
            let b = input[i]
            if b < 0x80 {
                switch b {
                case 0x22: out.append(0x5C); out.append(0x22)
                case 0x5C: out.append(0x5C); out.append(0x5C)
                case 0x0A: out.append(0x5C); out.append(0x6E)
                case 0x0D: out.append(0x5C); out.append(0x72)
                case 0x09: out.append(0x5C); out.append(0x74)
                case 0x08: out.append(0x5C); out.append(0x62)
                case 0x0C: out.append(0x5C); out.append(0x66)
                case 0..<0x20:
                    out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
                default: out.append(b)
                }
                i += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF // allowed range of the second byte
            switch b {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: length = 0
            }
            if length == 0 {
                out.append(contentsOf: replacement)
                i += 1
                continue
            }
            var valid = 1
            while valid < length, i + valid < n {
                let c = input[i + valid]
                let ok = valid == 1 ? (c >= low && c <= high) : (c & 0xC0 == 0x80)
                if !ok { break }
                valid += 1
            }
            if valid == length {
                for k in 0..<length { out.append(input[i + k]) }
                i += length
            } else if i + valid == n && !final {
                return i // an unfinished character: carry it
            } else {
                out.append(contentsOf: replacement)
                i += valid
            }
        }
        return n
    }
}
