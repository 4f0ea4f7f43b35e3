// zlib for Swift: deflateInit/inflateInit are macros, so they are wrapped here.
#include <zlib.h>

static inline int swiftmate_deflate_init(z_stream *s, int level) {
    return deflateInit2(s, level, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY);
}
static inline int swiftmate_inflate_init(z_stream *s) {
    return inflateInit2(s, 15);
}
