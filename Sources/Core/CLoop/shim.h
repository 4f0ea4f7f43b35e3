// epoll and eventfd for the event loop (IOLoop), which Swift's Glibc module does not carry.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <stdint.h>
#include <sys/prctl.h>

static const uint32_t swiftmate_epoll_in = EPOLLIN | EPOLLRDHUP;
static const uint32_t swiftmate_epoll_out = EPOLLOUT;
static const uint32_t swiftmate_epoll_readable_bits = EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR;
static const uint32_t swiftmate_epoll_writable_bits = EPOLLOUT | EPOLLHUP | EPOLLERR;

static inline int swiftmate_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

/// Adds (op 0), changes (1) or removes (2) `fd` with `events`.
static inline int swiftmate_epoll_ctl(int epfd, int op, int fd, uint32_t events) {
    struct epoll_event e = { .events = events, .data = { .fd = fd } };
    int cop = op == 0 ? EPOLL_CTL_ADD : op == 1 ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;
    return epoll_ctl(epfd, cop, fd, &e);
}

/// Waits; fills `fds` and `events` with at most `max` (≤ 256) ready descriptors and returns how many.
static inline int swiftmate_epoll_wait(int epfd, int *fds, uint32_t *events, int max, int timeout) {
    struct epoll_event ready[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, ready, max, timeout);
    for (int i = 0; i < n; i++) { fds[i] = ready[i].data.fd; events[i] = ready[i].events; }
    return n;
}

static inline int swiftmate_loop_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

/// Names the calling thread (what ps -L and top -H show; the kernel keeps the first 15 bytes).
static inline void swiftmate_name_thread(const char *name) { prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }
