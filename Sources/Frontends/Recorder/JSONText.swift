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
    /// character for the next call. Returns false (and leaves `out` as it was) when there was nothing to
    /// write.
    @discardableResult
    public mutating func appendLiteral(_ bytes: [UInt8], to out: inout [UInt8]) -> Bool {
        let input = carry.isEmpty ? bytes : carry + bytes
        let (used, literal) = Self.quoted(input, final: false)
        carry = used < input.count ? Array(input[used...]) : []
        guard literal.count > 2 else { return false }
        out += literal
        return true
    }

    /// Appends whatever is still carried (an unfinished character at the end of the stream) as
    /// U+FFFD literals; returns false when nothing was carried.
    public mutating func flushLiteral(to out: inout [UInt8]) -> Bool {
        guard !carry.isEmpty else { return false }
        out += Self.literal(carry)
        carry = []
        return true
    }

    /// A complete JSON string literal for `text`.
    public static func literal(_ text: String) -> [UInt8] { literal(Array(text.utf8)) }

    /// A complete JSON string literal for `bytes`, with U+FFFD for what is not UTF-8.
    static func literal(_ bytes: [UInt8]) -> [UInt8] { quoted(bytes, final: true).literal }

    /// `"…"` for `input` (written straight into uninitialised room for the worst case, 6 bytes per input
    /// byte), and how many input bytes it used (fewer only when not `final` and `input` ends inside a character).
    private static func quoted(_ input: [UInt8], final: Bool) -> (used: Int, literal: [UInt8]) {
        var used = 0
        let literal = [UInt8](unsafeUninitializedCapacity: input.count * 6 + 2) { buffer, count in
            buffer[0] = 0x22
            let (u, written) = input.withUnsafeBufferPointer { escape($0, into: buffer.baseAddress! + 1, final: final) }
            used = u
            buffer[written + 1] = 0x22
            count = written + 2
        }
        return (used, literal)
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Escapes `input` into `out` (room for 6 bytes per input byte); returns how many input bytes were
    /// used (less than all only when `final` is false and the input ends inside a character) and how
    /// many bytes were written.
    static func escape(_ input: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>, final: Bool) -> (used: Int, written: Int) {
        var i = 0, w = 0
        let n = input.count
        @inline(__always) func put(_ b: UInt8) { out[w] = b; w += 1 }
        while i < n {
            let b = input[i]
            if b >= 0x20 && b < 0x80 && b != 0x22 && b != 0x5C {
                put(b)
                i += 1
                continue
            }
            if b < 0x80 {
                put(0x5C)
                switch b {
                case 0x22: put(0x22)
                case 0x5C: put(0x5C)
                case 0x0A: put(0x6E)
                case 0x0D: put(0x72)
                case 0x09: put(0x74)
                case 0x08: put(0x62)
                case 0x0C: put(0x66)
                default: put(0x75); put(0x30); put(0x30); put(hex[Int(b >> 4)]); put(hex[Int(b & 0xF)])
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
                put(0xEF); put(0xBF); put(0xBD)
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
                for k in 0..<length { put(input[i + k]) }
                i += length
            } else if i + valid == n && !final {
                return (i, w) // an unfinished character: carry it
            } else {
                put(0xEF); put(0xBF); put(0xBD)
                i += valid
            }
        }
        return (n, w)
    }
}
