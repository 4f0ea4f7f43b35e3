// msgpack-c for Swift: the headers, plus helpers for the static-inline packer API.
#include <msgpack.h>

/// Makes a packer that appends to `buffer` (msgpack_sbuffer_write is a static inline callback).
static inline void swiftmate_packer_init(msgpack_packer *pk, msgpack_sbuffer *buffer) {
    msgpack_packer_init(pk, buffer, msgpack_sbuffer_write);
}
