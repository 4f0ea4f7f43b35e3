// Terminal ioctls for Swift (ioctl is variadic, so Swift cannot call it directly). No library to link.
// No _GNU_SOURCE here: it would change the system headers' types in this module only (fd_set's fields),
// and modules sharing those headers must agree. The two GNU functions used are declared below instead.
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <spawn.h>
#include <signal.h>

/// Sets a terminal's window size; returns ioctl's result.
static inline int swiftmate_set_winsize(int fd, unsigned short cols, unsigned short rows) {
    struct winsize ws = { .ws_row = rows, .ws_col = cols, .ws_xpixel = 0, .ws_ypixel = 0 };
    return ioctl(fd, TIOCSWINSZ, &ws);
}

/// Reads a terminal's window size; returns ioctl's result (0 on success).
static inline int swiftmate_get_winsize(int fd, unsigned short *cols, unsigned short *rows) {
    struct winsize ws;
    int rc = ioctl(fd, TIOCGWINSZ, &ws);
    if (rc == 0) { *cols = ws.ws_col; *rows = ws.ws_row; }
    return rc;
}

/// posix_spawn flags for a PTY child: new session, default signal dispositions, empty mask.
static inline short swiftmate_spawn_flags(void) {
#ifndef POSIX_SPAWN_SETSID
#define POSIX_SPAWN_SETSID 0x80 /* glibc >= 2.26, declared only under _GNU_SOURCE */
#endif
    return POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
}

/// Unlocks a /dev/ptmx master (unlockpt) and returns its slave number (ptsname), or -1.
static inline int swiftmate_unlock_and_number(int fd) {
    int unlock = 0;
    unsigned int number = 0;
    if (ioctl(fd, TIOCSPTLCK, &unlock) != 0) return -1;
    if (ioctl(fd, TIOCGPTN, &number) != 0) return -1;
    return (int)number;
}

extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

/// Closes every descriptor from `lowest` up in the child of a posix_spawn (glibc 2.34+): the shared
/// command must not inherit the host's sockets, pipes or eventfds. Returns 0, or an errno value.
static inline int swiftmate_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
#else
    (void)actions; (void)lowest;
    return 0;
#endif
}

/// accept with close-on-exec, so a command spawned meanwhile cannot hold the connection open.
static inline int swiftmate_accept_cloexec(int fd) { return accept4(fd, 0, 0, SOCK_CLOEXEC); }

#if defined(__GLIBC__)
#include <malloc.h>
#endif
/// Hands memory the allocator keeps free (in every thread's arena) back to the system; 1 if any was.
static inline int swiftmate_return_freed_memory(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}
