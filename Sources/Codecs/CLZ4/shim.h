// liblz4 for Swift: streaming block compression.
#include <lz4.h>
