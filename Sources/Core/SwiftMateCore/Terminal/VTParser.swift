// The VT parser: bytes in, print/execute/CSI/ESC/OSC actions out. It assigns no meaning (ScreenModel does).

/// What a `VTParser` reports, in order. `ScreenModel` is the one implementation.
protocol VTHandler: AnyObject {
    /// A run of printable ASCII (0x20–0x7E), the common case, handed over at once.
    func printASCII(_ bytes: UnsafeBufferPointer<UInt8>)
    /// One printable character outside ASCII (decoded UTF-8; malformed sequences are dropped, as in tmux).
    func printScalar(_ scalar: UInt32)
    /// A C0 control (BEL, BS, HT, LF, VT, FF, CR, SO, SI).
    func execute(_ byte: UInt8)
    /// A control sequence: `final` byte, parameters, `prefix` (`?`, `>`, `=`, `<` or 0), `intermediates` packed (≤ 2).
    func csiDispatch(final: UInt8, params: borrowing CSIParameters, prefix: UInt8, intermediates: UInt16)
    /// An escape sequence: `final` byte and intermediates packed (≤ 2).
    func escDispatch(final: UInt8, intermediates: UInt16)
    /// An operating system command's payload (at most `VTParser.maxOSCBytes`).
    func oscDispatch(_ payload: UnsafeBufferPointer<UInt8>)
}

/// The parameters of one control sequence: at most 16, each at most 65535; `:` sub-parameters are kept
/// in order with a flag saying they belong to the parameter before them (SGR 38:2:r:g:b, 4:3).
struct CSIParameters: ~Copyable {
    static let maxCount = 16
    private var values = (Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0),
                          Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0))
    /// Bit i set: parameter i was given (not empty).
    private var present: UInt32 = 0
    /// Bit i set: parameter i is a sub-parameter of the one before (it followed a `:`).
    private var subMask: UInt32 = 0
    /// How many parameters.
    private(set) var count = 0

    mutating func reset() {
        count = 0
        present = 0
        subMask = 0
    }

    /// Starts the next parameter (after `;`, or `:` when `sub`). Past the cap, parameters are dropped.
    mutating func next(sub: Bool) {
        if count == 0 { count = 1 }
        guard count < Self.maxCount else { return }
        if sub { subMask |= 1 << UInt32(count) }
        setValue(count, 0)
        count += 1
    }

    /// Adds a digit to the current parameter (capped at 65535).
    mutating func digit(_ d: Int32) {
        if count == 0 { count = 1; setValue(0, 0) }
        let i = count - 1
        guard i < Self.maxCount else { return }
        let v = value(i)
        setValue(i, min(v &* 10 &+ d, 65535))
        present |= 1 << UInt32(i)
    }

    private mutating func setValue(_ i: Int, _ v: Int32) {
        withUnsafeMutableBytes(of: &values) { $0.storeBytes(of: v, toByteOffset: i * 4, as: Int32.self) }
    }

    private func value(_ i: Int) -> Int32 {
        withUnsafeBytes(of: values) { $0.load(fromByteOffset: i * 4, as: Int32.self) }
    }

    /// Parameter `i`, or `fallback` when missing or empty (or 0 when `zeroIsDefault`).
    func get(_ i: Int, _ fallback: Int, zeroIsDefault: Bool = true) -> Int {
        guard i < count, present & (1 << UInt32(i)) != 0 else { return fallback }
        let v = Int(value(i))
        return (v == 0 && zeroIsDefault) ? fallback : v
    }

    /// Whether parameter `i` is a sub-parameter (followed a `:`).
    func isSub(_ i: Int) -> Bool { i < count && subMask & (1 << UInt32(i)) != 0 }
}

/// A VT500-style parser state machine (after Paul Williams' DEC parser, as in libvterm and alacritty's vte).
/// Every length a peer controls is capped: 16 parameters, 2 intermediates, `maxOSCBytes` of OSC.
final class VTParser {
    static let maxOSCBytes = 1024

    private enum State {
        case ground, escape, escapeIntermediate, csiEntry, csiParam, csiIntermediate, csiIgnore
        case oscString, oscEscape, stringIgnore, stringIgnoreEscape
    }

    @exclusivity(unchecked) private var state = State.ground
    @exclusivity(unchecked) private var params = CSIParameters()
    @exclusivity(unchecked) private var prefix: UInt8 = 0
    @exclusivity(unchecked) private var intermediates: UInt16 = 0
    @exclusivity(unchecked) private var intermediateCount = 0
    @exclusivity(unchecked) private var osc: UnsafeMutableBufferPointer<UInt8>
    @exclusivity(unchecked) private var oscCount = 0
    @exclusivity(unchecked) private var oscOverflow = false
    // UTF-8 decoding in the ground state.
    @exclusivity(unchecked) private var utf8Value: UInt32 = 0
    @exclusivity(unchecked) private var utf8Needed = 0
    @exclusivity(unchecked) private var utf8Minimum: UInt32 = 0

    init() {
        osc = .allocate(capacity: Self.maxOSCBytes)
    }

    deinit { osc.deallocate() }

    /// Back to the ground state (RIS, or a new stream).
    func reset() {
        state = .ground
        utf8Needed = 0
    }

    /// Parses `bytes`, reporting to `handler`. Sequences may be split anywhere across calls.
    func feed<H: VTHandler>(_ bytes: UnsafeBufferPointer<UInt8>, _ handler: H) {
        var i = 0
        let n = bytes.count
        while i < n {
            let byte = bytes[i]
            if state == .ground && utf8Needed == 0 && byte >= 0x20 && byte < 0x7F {
                var j = i + 1
                while j < n, bytes[j] >= 0x20, bytes[j] < 0x7F { j += 1 }
                handler.printASCII(UnsafeBufferPointer(rebasing: bytes[i..<j]))
                i = j
                continue
            }
            step(byte, handler)
            i += 1
        }
    }

    /// Bytes taken since the parser was last between sequences (an unfinished escape sequence, string or
    /// UTF-8 character). They have had no effect yet, so a repaint of the screen stands for the stream
    /// before them.
    @exclusivity(unchecked) private(set) var unfinishedBytes = 0

    private func step<H: VTHandler>(_ byte: UInt8, _ h: H) {
        defer { unfinishedBytes = (state == .ground && utf8Needed == 0) ? 0 : unfinishedBytes + 1 }
        // Controls that act in every state (as in the DEC diagram): CAN/SUB abort, ESC restarts.
        switch byte {
        case 0x18, 0x1A:
            if state == .oscString || state == .oscEscape { oscCount = 0 }
            state = .ground
            utf8Needed = 0
            return
        case 0x1B:
            if state == .oscString { state = .oscEscape; return }
            if state == .stringIgnore { state = .stringIgnoreEscape; return }
            utf8Needed = 0
            enterEscape()
            return
        default: break
        }
        switch state {
        case .ground: ground(byte, h)
        case .escape: escape(byte, h)
        case .escapeIntermediate: escapeIntermediate(byte, h)
        case .csiEntry, .csiParam, .csiIntermediate, .csiIgnore: csi(byte, h)
        case .oscString:
            if byte == 0x07 { finishOSC(h) } else if byte >= 0x20 { appendOSC(byte) }
        case .oscEscape:
            if byte == 0x5C { finishOSC(h) } else { oscCount = 0; enterEscape(); escape(byte, h) }
        case .stringIgnore:
            if byte == 0x07 { state = .ground }
        case .stringIgnoreEscape:
            state = byte == 0x5C ? .ground : .stringIgnore
        }
    }

    private func enterEscape() {
        state = .escape
        intermediates = 0
        intermediateCount = 0
    }

    private func collect(_ byte: UInt8) {
        if intermediateCount < 2 { intermediates = intermediates << 8 | UInt16(byte) }
        intermediateCount += 1
    }

    private func ground<H: VTHandler>(_ byte: UInt8, _ h: H) {
        if utf8Needed > 0 {
            if byte & 0xC0 == 0x80 {
                utf8Value = utf8Value << 6 | UInt32(byte & 0x3F)
                utf8Needed -= 1
                if utf8Needed == 0 {
                    let v = utf8Value
                    if v >= utf8Minimum && v <= 0x10FFFF && !(0xD800...0xDFFF).contains(v) { h.printScalar(v) }
                }
                return
            }
            utf8Needed = 0 // a cut sequence is dropped; this byte starts afresh
        }
        switch byte {
        case 0x00..<0x20: h.execute(byte)
        case 0x20..<0x7F: h.printScalar(UInt32(byte))
        case 0x7F: break
        case 0xC2...0xDF: begin(byte & 0x1F, needed: 1, minimum: 0x80)
        case 0xE0...0xEF: begin(byte & 0x0F, needed: 2, minimum: 0x800)
        case 0xF0...0xF4: begin(byte & 0x07, needed: 3, minimum: 0x10000)
        default: break // a stray continuation or invalid lead byte
        }
    }

    private func begin(_ bits: UInt8, needed: Int, minimum: UInt32) {
        utf8Value = UInt32(bits)
        utf8Needed = needed
        utf8Minimum = minimum
    }

    private func escape<H: VTHandler>(_ byte: UInt8, _ h: H) {
        switch byte {
        case 0x00..<0x20: h.execute(byte)
        case 0x20...0x2F: collect(byte); state = .escapeIntermediate
        case 0x5B: // [
            state = .csiEntry
            params.reset()
            prefix = 0
            intermediates = 0
            intermediateCount = 0
        case 0x5D: state = .oscString; oscCount = 0; oscOverflow = false // ]
        case 0x50, 0x58, 0x5E, 0x5F: state = .stringIgnore // DCS, SOS, PM, APC: skipped
        case 0x30...0x7E: state = .ground; h.escDispatch(final: byte, intermediates: 0)
        default: state = .ground
        }
    }

    private func escapeIntermediate<H: VTHandler>(_ byte: UInt8, _ h: H) {
        switch byte {
        case 0x00..<0x20: h.execute(byte)
        case 0x20...0x2F: collect(byte)
        case 0x30...0x7E:
            state = .ground
            if intermediateCount <= 2 { h.escDispatch(final: byte, intermediates: intermediates) }
        default: state = .ground
        }
    }

    private func csi<H: VTHandler>(_ byte: UInt8, _ h: H) {
        switch byte {
        case 0x00..<0x20:
            h.execute(byte)
        case 0x30...0x39 where state == .csiEntry || state == .csiParam:
            params.digit(Int32(byte - 0x30))
            state = .csiParam
        case 0x3B where state == .csiEntry || state == .csiParam:
            params.next(sub: false)
            state = .csiParam
        case 0x3A where state == .csiEntry || state == .csiParam:
            params.next(sub: true)
            state = .csiParam
        case 0x3C...0x3F:
            if state == .csiEntry { prefix = byte; state = .csiParam } else { state = .csiIgnore }
        case 0x20...0x2F:
            if state == .csiIgnore { return }
            collect(byte)
            state = .csiIntermediate
        case 0x40...0x7E:
            let ignored = state == .csiIgnore || intermediateCount > 2
            state = .ground
            if !ignored { h.csiDispatch(final: byte, params: params, prefix: prefix, intermediates: intermediates) }
        case 0x30...0x3B:
            state = .csiIgnore // digits or separators after an intermediate
        default:
            break
        }
    }

    private func appendOSC(_ byte: UInt8) {
        guard oscCount < Self.maxOSCBytes else { oscOverflow = true; return }
        osc[oscCount] = byte
        oscCount += 1
    }

    private func finishOSC<H: VTHandler>(_ h: H) {
        state = .ground
        // Past the cap the whole command is ignored, not truncated (a cut title is a wrong title).
        if !oscOverflow { h.oscDispatch(UnsafeBufferPointer(rebasing: osc[0..<oscCount])) }
        oscCount = 0
        oscOverflow = false
    }
}
