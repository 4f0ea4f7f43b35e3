// libssh for Swift: the SSH transport (server for viewers and hosts, client for hosts).
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <libssh/callbacks.h>

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

// GNU functions, declared here rather than through _GNU_SOURCE (which would change the system headers'
// types in this module only).
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
extern int pipe2(int fds[2], int flags);

/// A non-blocking, close-on-exec eventfd (wakes a libssh thread from other threads).
static inline int swiftmate_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

/// accept4 with close-on-exec.
static inline int swiftmate_accept(int fd, struct sockaddr *address, socklen_t *length) {
    return accept4(fd, address, length, SOCK_CLOEXEC);
}

/// A close-on-exec, non-blocking pipe.
static inline int swiftmate_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC | O_NONBLOCK); }
