// Fuzz targets for the wire: frames and messages.
import SwiftMateCore

enum FrameFuzz {
    /// Splitting must not change what is decoded: bytes fed in pieces of size 1...N give the same frames
    /// (and the same error) as the whole input at once.
    static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let piece = Int(input.byte() % 64) + 1
        let limit = Int(input.u16()) + 1
        let stream = input.rest()
        let whole = decodeAll(stream, piece: stream.count + 1, limit: limit)
        let split = decodeAll(stream, piece: piece, limit: limit)
        precondition(whole.frames == split.frames && whole.failed == split.failed, "frame decoding depends on how the bytes were split")
    }

    private static func decodeAll(_ bytes: [UInt8], piece: Int, limit: Int) -> (frames: [[UInt8]], failed: Bool) {
        var decoder = FrameDecoder(maxFrameSize: limit)
        var frames: [[UInt8]] = []
        var i = 0
        repeat {
            decoder.append(bytes[i..<min(bytes.count, i + piece)])
            i += piece
            do {
                while let frame = try decoder.next() {
                    precondition(frame.count <= limit, "a frame over the limit came out")
                    frames.append(frame)
                }
            } catch {
                return (frames, true)
            }
            precondition(decoder.bufferedByteCount <= limit + 4 + piece, "the decoder holds more than one frame's worth")
        } while i < bytes.count
        return (frames, false)
    }
}

enum MessageFuzz {
    /// Any body decodes to a message, nil (unknown type) or an error; what decodes encodes back to the same message.
    static func run(_ data: [UInt8]) {
        guard let message = try? Message.decode(data) else { return }
        let again = try? Message.decode(message.encoded())
        precondition(again == message, "a decoded message does not survive encoding: \(message)")
    }
}
