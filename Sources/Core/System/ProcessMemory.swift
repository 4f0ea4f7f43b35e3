// The process's memory as the system sees it: handing back what the allocator keeps free after a burst.
import CPTY

/// glibc keeps freed blocks in per-thread arenas for reuse, so a process that served a burst (a refused flood of
/// handshakes, say) would stay at its peak size; `returnFreed` gives whole free pages back (`malloc_trim`).
public enum ProcessMemory {
    /// Returns free memory to the system; true if some was. Takes a few milliseconds on a large heap: call it
    /// after a burst, not per request.
    @discardableResult
    public static func returnFreed() -> Bool { swiftmate_return_freed_memory() == 1 }
}
