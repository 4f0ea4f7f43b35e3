// Session tokens and ids: base62 strings from the system CSPRNG.

/// Makes tokens and ids.
public enum Tokens {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// A base62 string of `length` characters from `SystemRandomNumberGenerator` (getrandom(2) on
    /// Linux). 22 characters carry 130 bits.
    public static func make(length: Int = 22) -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<length).map { _ in alphabet[Int.random(in: 0..<62, using: &rng)] }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `text` could be a token (base62, 8–64 characters). Lookups do not depend on it:
    /// every failed lookup is answered the same way.
    public static func isWellFormed(_ text: String) -> Bool {
        (8...64).contains(text.utf8.count) && text.utf8.allSatisfy { alphabet.contains($0) }
    }
}
