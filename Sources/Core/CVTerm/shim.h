// libvterm for Swift (the screen model parses with its state layer).
#include <vterm.h>
