// Path text taken apart without Foundation's path methods (NSString's crash on some non-ASCII paths).

/// What a path given in YAML or on the command line is made of. Foundation's `deletingLastPathComponent` traps on
/// paths holding some non-ASCII text (U+FFFD among others, which libyaml gives for bytes that are not UTF-8), so
/// paths from a user are taken apart here.
public enum FilePaths {
    /// `path` without its last component and the slashes before it: `a/b/c` → `a/b`, `/c` and `/` → `/`, `c` → ``.
    public static func parent(of path: String) -> String {
        var rest = Substring(path)
        while rest.count > 1 && rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let slash = rest.lastIndex(of: "/") else { return "" }
        var parent = rest[..<slash]
        while parent.hasSuffix("/") { parent = parent.dropLast() }
        return parent.isEmpty ? "/" : String(parent)
    }
}
