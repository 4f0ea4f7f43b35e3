// How many columns a character takes, as glibc's wcwidth (and so tmux on the same machine) says.

/// Column widths of Unicode scalars: 0 (combining), 1, or 2 (wide). Unknown characters count as 1, as in tmux.
enum CharacterWidth {
    /// The width of `scalar` (a printable code point; C0/C1 controls never get here).
    @inline(__always)
    static func of(_ scalar: UInt32) -> Int {
        if scalar < 0x300 { return 1 }
        if scalar >= 0x1100, contains(wide, scalar) { return 2 }
        if contains(zero, scalar) { return 0 }
        return 1
    }

    private static func contains(_ ranges: [(UInt32, UInt32)], _ value: UInt32) -> Bool {
        var low = 0, high = ranges.count - 1
        if high < 0 || value < ranges[0].0 || value > ranges[high].1 { return false }
        while low <= high {
            let mid = (low + high) >> 1
            let range = ranges[mid]
            if value < range.0 { high = mid - 1 } else if value > range.1 { low = mid + 1 } else { return true }
        }
        return false
    }
}
