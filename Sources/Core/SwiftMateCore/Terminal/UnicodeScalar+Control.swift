// Which characters a terminal acts on instead of showing: C0, DEL and C1.

extension Unicode.Scalar {
    /// A C0 control, DEL or a C1 control: text from a peer or a file holding one could move the cursor or
    /// change a terminal's modes, so it is escaped or replaced before it is shown.
    public var isTerminalControl: Bool { value < 0x20 || (0x7f...0x9f).contains(value) }
}
